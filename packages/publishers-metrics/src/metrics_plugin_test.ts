import {
  createMessage,
  EventHub,
  isPublisher,
  validateWithSchema,
} from "@fanout/core";
import { getLogger } from "@logtape/logtape";
import assert from "node:assert/strict";
import metricsPlugin from "./metrics_plugin.ts";
import type { MetricsPublisher } from "./metrics_publisher.ts";

const demoOptions = {
  statsd: { host: "127.0.0.1", port: 8125 },
  prometheus: { port: 9464 },
  rules: [{ name: "messages", kind: "counter", tags: { type: "type" } }],
};

Deno.test("metricsPlugin options accept the demo configuration and fill defaults", async () => {
  const result = await validateWithSchema(metricsPlugin.options, demoOptions);

  assert.ok(result.ok);
  assert.deepEqual(result.value.statsd, {
    host: "127.0.0.1",
    port: 8125,
    prefix: "fanout.",
    tags: {},
    maxPacketBytes: 1432,
    flushIntervalMs: 10,
  });
  assert.deepEqual(result.value.prometheus, {
    host: "127.0.0.1",
    port: 9464,
    path: "/metrics",
    prefix: "fanout_",
    maxSeries: 10000,
  });
});

Deno.test("metricsPlugin options reject unknown keys with their path", async () => {
  const result = await validateWithSchema(metricsPlugin.options, {
    statsd: { hots: "x" },
  });

  assert.ok(!result.ok);
  assert.match(result.issues[0]!.message, /hots/);
  assert.equal(result.issues[0]!.path, "statsd");
});

Deno.test("metricsPlugin.create() makes a batch publisher that observes the context's events", async () => {
  const events = new EventHub();
  const controller = new AbortController();
  const checked = await validateWithSchema(metricsPlugin.options, {
    ...demoOptions,
    prometheus: { port: 0 },
  });
  assert.ok(checked.ok);

  const publisher = await metricsPlugin.create(checked.value, {
    destination: "metrics",
    logger: getLogger(["fanout", "metrics"]),
    signal: controller.signal,
    events,
    baseDir: ".",
  }) as MetricsPublisher;
  try {
    assert.ok(isPublisher(publisher));
    assert.equal(metricsPlugin.capabilities?.batch, true);
    await publisher.publishBatch!([
      createMessage({ type: "push", body: {} }),
      createMessage({ type: "push", body: {} }),
    ]);
    events.emit({ type: "received", destination: "db", messageId: "m" });

    const response = await fetch(
      `http://127.0.0.1:${publisher.prometheusPort}/metrics`,
    );
    const text = await response.text();
    assert.match(text, /^fanout_messages_total\{type="push"\} 2$/m);
    assert.match(text, /^fanout_received_total\{destination="db"\} 1$/m);
  } finally {
    await publisher.close!();
  }
});
