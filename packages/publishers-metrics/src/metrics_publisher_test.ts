import {
  createMessage,
  EventHub,
  type FanOutEvents,
  isClosedError,
} from "@fanout/core";
import { configure, getLogger, type LogRecord, reset } from "@logtape/logtape";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { Buffer } from "node:buffer";
import { createMetricsPublisher } from "./metrics_publisher.ts";
import { parseStatsdLine, UdpListener } from "../testdata/udp_listener.ts";

async function scrape(port: number | undefined, path = "/metrics") {
  assert.ok(port, "the Prometheus port is known");
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { response, text: await response.text() };
}

/** Reads `name{labels} value` lines into a map from series to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

Deno.test("createMetricsPublisher() sends DogStatsD lines with types, values and sanitised tags", async () => {
  await using listener = await UdpListener.open();
  await using metrics = await createMetricsPublisher({
    statsd: {
      port: listener.port,
      tags: { env: "test" },
      maxPacketBytes: 300,
    },
    rules: [
      { name: "messages", kind: "counter", tags: { type: "type" } },
      {
        name: "by repo",
        kind: "counter",
        tags: { "repo:name": "body.repo" },
      },
      {
        name: "order.total",
        kind: "gauge",
        value: "body.total",
        match: { type: "order" },
      },
      { name: "size", kind: "histogram", value: "body.size" },
    ],
  });
  const messages = 40;
  const hostileRepo = "acme|web#1,x:y\nz";

  for (let i = 0; i < messages; i++) {
    await metrics.publish(createMessage({
      type: "push",
      body: { repo: hostileRepo, size: i },
      producedAt: Date.now() - 5,
    }));
  }
  await metrics.publishBatch(
    [-2.5, 7, 12].map((total) =>
      createMessage({ type: "order", body: { total, size: 1 } })
    ),
  );

  const all = messages + 3;
  const lines = await listener.waitFor((lines) =>
    lines.filter((line) => line.startsWith("fanout.delivery_latency:"))
      .length === all
  );
  const parsed = lines.map(parseStatsdLine);
  const named = (name: string) => parsed.filter((line) => line.name === name);

  const pushes = named("fanout.messages").filter((line) =>
    line.tags.type === "push"
  );
  assert.ok(pushes.every((line) => line.type === "c"));
  assert.ok(pushes.every((line) => line.tags.env === "test"));
  assert.equal(sum(pushes.map((line) => line.value)), messages);
  const orders = named("fanout.messages").filter((line) =>
    line.tags.type === "order"
  );
  assert.equal(sum(orders.map((line) => line.value)), 3);

  const byRepo = named("fanout.by_repo").filter((line) =>
    line.tags.repo_name !== undefined
  );
  assert.equal(byRepo.length, messages);
  assert.deepEqual(
    named("fanout.by_repo").filter((line) => !line.tags.repo_name)
      .map((line) => line.tags),
    [{ env: "test" }, { env: "test" }, { env: "test" }],
  );
  assert.deepEqual(byRepo[0]!.tags, {
    env: "test",
    repo_name: "acme_web_1_x:y_z",
  });
  assert.ok(
    lines.some((line) =>
      line.endsWith("|#env:test,repo_name:acme_web_1_x:y_z")
    ),
  );

  const gauges = named("fanout.order.total");
  assert.ok(gauges.every((line) => line.type === "g"));
  assert.deepEqual(gauges.map((line) => line.value), [0, -2.5, 7, 12]);

  const sizes = named("fanout.size");
  assert.ok(sizes.every((line) => line.type === "h"));
  assert.equal(sizes.length, all);
  assert.equal(sum(sizes.map((line) => line.value)), (39 * 40) / 2 + 3);

  const latencies = named("fanout.delivery_latency");
  assert.ok(latencies.every((line) => line.type === "ms"));
  const pushLatencies = latencies.filter((line) => line.tags.type === "push");
  assert.equal(pushLatencies.length, messages);
  assert.ok(pushLatencies.every((line) => line.value >= 5));
  assert.ok(latencies.every((line) => line.value >= 0 && line.value < 60_000));

  assert.ok(listener.datagrams.every((d) => Buffer.byteLength(d) <= 300));
  assert.ok(listener.datagrams.some((d) => d.includes("\n")));
  assert.equal(metrics.statsdSendErrors, 0);
});

Deno.test("createMetricsPublisher() serves rule and fan-out series on the Prometheus endpoint", async () => {
  const hub = new EventHub();
  await using metrics = await createMetricsPublisher({
    prometheus: { port: 0 },
    rules: [{
      name: "messages",
      kind: "counter",
      tags: { type: "type", title: "body.title" },
    }],
  }, { events: hub });
  const title = 'say "hi" \\ then\nbye';

  await metrics.publishBatch(
    [1, 2, 3].map(() => createMessage({ type: "issue", body: { title } })),
  );
  for (let i = 0; i < 3; i++) {
    hub.emit({ type: "received", destination: "db", messageId: `m${i}` });
  }
  hub.emit({
    type: "delivered",
    destination: "db",
    messageId: "m0",
    attempts: 1,
    durationMs: 4,
  });
  hub.emit({
    type: "retried",
    destination: "db",
    messageId: "m1",
    attempt: 1,
    delayMs: 10,
    error: new Error("down"),
  });
  hub.emit({
    type: "delivered",
    destination: "db",
    messageId: "m1",
    attempts: 2,
    durationMs: 40,
  });
  hub.emit({
    type: "dead-lettered",
    destination: "db",
    messageId: "m2",
    attempts: 5,
    error: new Error("refused"),
  });
  hub.emit({
    type: "dropped",
    destination: "log",
    messageId: "m2",
    attempts: 3,
    error: new Error("slow"),
  });
  hub.emit({ type: "queue-depth", depth: 7, capacity: 100 });

  const { response, text } = await scrape(metrics.prometheusPort);
  assert.equal(response.status, 200);
  assert.match(
    response.headers.get("content-type") ?? "",
    /^text\/plain; version=0\.0\.4/,
  );
  const lines = text.split("\n");
  assert.ok(
    lines.includes(
      'fanout_messages_total{title="say \\"hi\\" \\\\ then\\nbye",type="issue"} 3',
    ),
    text,
  );
  assert.ok(lines.includes("# TYPE fanout_messages_total counter"));
  assert.ok(lines.includes("# TYPE fanout_destination_latency histogram"));
  assert.ok(lines.includes("# TYPE fanout_queue_depth gauge"));

  const series = samples(text);
  assert.equal(series.get('fanout_received_total{destination="db"}'), 3);
  assert.equal(series.get('fanout_delivered_total{destination="db"}'), 2);
  assert.equal(series.get('fanout_retried_total{destination="db"}'), 1);
  assert.equal(series.get('fanout_dead_lettered_total{destination="db"}'), 1);
  assert.equal(series.get('fanout_dropped_total{destination="log"}'), 1);
  assert.equal(series.get('fanout_dropped_total{destination="db"}'), undefined);
  assert.equal(
    series.get('fanout_destination_latency_bucket{destination="db",le="2.5"}'),
    0,
  );
  assert.equal(
    series.get('fanout_destination_latency_bucket{destination="db",le="5"}'),
    1,
  );
  assert.equal(
    series.get('fanout_destination_latency_bucket{destination="db",le="50"}'),
    2,
  );
  assert.equal(
    series.get('fanout_destination_latency_bucket{destination="db",le="+Inf"}'),
    2,
  );
  assert.equal(
    series.get('fanout_destination_latency_sum{destination="db"}'),
    44,
  );
  assert.equal(
    series.get('fanout_destination_latency_count{destination="db"}'),
    2,
  );
  assert.equal(series.get("fanout_queue_depth"), 7);
  assert.equal(series.get("fanout_queue_capacity"), 100);
  assert.equal(series.get('fanout_delivery_latency_count{type="issue"}'), 3);

  const missing = await scrape(metrics.prometheusPort, "/other");
  assert.equal(missing.response.status, 404);
});

Deno.test("createMetricsPublisher() counts a value that cannot be a metric as a mapping error and never sends it", async () => {
  await using listener = await UdpListener.open();
  await using metrics = await createMetricsPublisher({
    statsd: { port: listener.port },
    prometheus: { port: 0 },
    rules: [
      { name: "amount", kind: "gauge", value: "body.amount" },
      { name: "refunds", kind: "counter", value: "body.amount" },
    ],
  });
  const amounts = ["12", undefined, Infinity, Number.NaN, -3, 5];

  for (const amount of amounts) {
    const body = amount === undefined ? {} : { amount };
    await metrics.publish(createMessage({ type: "pay", body }));
  }

  const lines = await listener.waitFor((lines) =>
    lines.filter((line) => line.startsWith("fanout.delivery_latency:"))
      .length === amounts.length
  );
  const parsed = lines.map(parseStatsdLine);
  assert.deepEqual(
    parsed.filter((line) => line.name === "fanout.amount").map((l) => l.value),
    [0, -3, 5],
  );
  assert.deepEqual(
    parsed.filter((line) => line.name === "fanout.refunds").map((l) => l.value),
    [5],
  );
  const errors = parsed.filter((line) => line.name === "fanout.mapping_errors");
  assert.ok(errors.every((line) => line.type === "c"));
  const errorsOf = (rule: string) =>
    sum(errors.filter((l) => l.tags.rule === rule).map((l) => l.value));
  assert.equal(errorsOf("amount"), 4);
  assert.equal(errorsOf("refunds"), 5);
  assert.equal(metrics.mappingErrors, 9);

  const series = samples((await scrape(metrics.prometheusPort)).text);
  assert.equal(series.get('fanout_mapping_errors_total{rule="amount"}'), 4);
  assert.equal(series.get('fanout_mapping_errors_total{rule="refunds"}'), 5);
  assert.equal(series.get("fanout_amount"), 5);
  assert.equal(series.get("fanout_refunds_total"), 5);
});

Deno.test("createMetricsPublisher() keeps publishing when nothing listens on the StatsD port", async () => {
  await using metrics = await createMetricsPublisher({
    statsd: { host: "127.0.0.1", port: 8125, flushIntervalMs: 0 },
    prometheus: { port: 0 },
    rules: [{ name: "messages", kind: "counter", tags: { type: "type" } }],
  });

  for (let i = 0; i < 20; i++) {
    await metrics.publish(createMessage({ type: i % 2 ? "a" : "b", body: {} }));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }

  const series = samples((await scrape(metrics.prometheusPort)).text);
  assert.equal(series.get('fanout_messages_total{type="a"}'), 10);
  assert.equal(series.get('fanout_messages_total{type="b"}'), 10);
});

Deno.test("createMetricsPublisher() keeps publishing to a closed UDP port", async () => {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const closedPort = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  await using metrics = await createMetricsPublisher({
    statsd: { port: closedPort, flushIntervalMs: 0 },
  });

  for (let i = 0; i < 20; i++) {
    await metrics.publish(createMessage({ body: {} }));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }

  await metrics.close();
  assert.equal(metrics.mappingErrors, 0);
});

Deno.test("createMetricsPublisher() counts and logs a datagram the socket refuses", async () => {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["logtape", "meta"], sinks: [] },
      { category: ["metrics-test"], sinks: ["memory"], lowestLevel: "debug" },
    ],
  });
  try {
    await using listener = await UdpListener.open();
    await using metrics = await createMetricsPublisher({
      statsd: { port: listener.port, flushIntervalMs: 0 },
      prometheus: { port: 0 },
      rules: [{ name: "big", kind: "counter", tags: { note: "body.note" } }],
    }, { logger: getLogger(["metrics-test"]) });

    await metrics.publish(
      createMessage({ body: { note: "x".repeat(70_000) } }),
    );
    await metrics.publish(createMessage({ type: "small", body: {} }));

    await listener.waitFor((lines) =>
      lines.some((line) => line.includes("#type:small"))
    );
    assert.equal(metrics.statsdSendErrors, 1);
    const series = samples((await scrape(metrics.prometheusPort)).text);
    assert.equal(series.get("fanout_statsd_send_errors_total"), 1);
    const warning = records.find((record) => record.level === "warning");
    assert.equal(warning?.properties.port, listener.port);
  } finally {
    await reset();
  }
});

Deno.test("createMetricsPublisher() rejects a publish whose signal is aborted and records nothing", async () => {
  await using metrics = await createMetricsPublisher({
    prometheus: { port: 0 },
  });
  const controller = new AbortController();
  controller.abort(new Error("stop"));

  await assert.rejects(
    metrics.publish(createMessage({ type: "t", body: {} }), {
      signal: controller.signal,
    }),
    /stop/,
  );

  const { text } = await scrape(metrics.prometheusPort);
  assert.doesNotMatch(text, /fanout_messages_total\{/);
});

Deno.test("createMetricsPublisher() refuses to publish after close and closes twice harmlessly", async () => {
  let subscribed = 0;
  const hub = new EventHub();
  const events: FanOutEvents = {
    subscribe(listener) {
      subscribed++;
      const stop = hub.subscribe(listener);
      return () => {
        subscribed--;
        stop();
      };
    },
  };
  const metrics = await createMetricsPublisher({
    prometheus: { port: 0 },
    statsd: { port: 8125 },
  }, { events });
  const port = metrics.prometheusPort;
  assert.equal(subscribed, 1);

  await metrics.close();
  await metrics.close();
  await metrics[Symbol.asyncDispose]();

  assert.equal(subscribed, 0);
  await assert.rejects(
    metrics.publish(createMessage({ body: {} })),
    (error) => isClosedError(error),
  );
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
});

Deno.test("createMetricsPublisher() throws a TypeError for invalid options", async () => {
  await assert.rejects(createMetricsPublisher({}), {
    name: "TypeError",
    message: /set "statsd", "prometheus" or both/,
  });
  await assert.rejects(
    createMetricsPublisher({
      prometheus: { port: 0 },
      rules: [{ name: "total", kind: "gauge" }],
    }),
    { name: "TypeError", message: /rules\[0\]\.value: a gauge needs a value/ },
  );
  await assert.rejects(
    createMetricsPublisher({
      prometheus: { port: 0, colour: "red" } as never,
    }),
    { name: "TypeError", message: /colour/ },
  );
  await assert.rejects(
    createMetricsPublisher({
      prometheus: { port: 0 },
      rules: [{ name: "dropped", kind: "counter" }],
    }),
    { name: "TypeError", message: /records itself/ },
  );
});

Deno.test("createMetricsPublisher() fails clearly when the Prometheus port is taken", async () => {
  await using first = await createMetricsPublisher({ prometheus: { port: 0 } });

  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125 },
      prometheus: { port: first.prometheusPort! },
    }),
    {
      message:
        /^Cannot listen for Prometheus scrapes on "127\.0\.0\.1:\d+": the port is in use$/,
    },
  );
});

/**
 * Checks what Prometheus checks when it parses a scrape: each family is
 * declared once, each sample belongs to one declared family, no sample name
 * repeats a label combination and no line repeats a label name.
 */
function assertValidExposition(text: string): void {
  const types = new Map<string, string>();
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]!), `family "${type[1]}" is declared twice`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const series = line.slice(0, space);
    assert.ok(!seen.has(series), `sample "${series}" appears twice`);
    seen.add(series);
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(series)![0];
    const owners = [...types].filter(([family, kind]) =>
      family === name ||
      (kind === "histogram" &&
        ["_bucket", "_sum", "_count"].some((end) => family + end === name))
    );
    assert.equal(
      owners.length,
      1,
      `sample "${name}" has ${owners.length} families`,
    );
    const labels = [...series.matchAll(/[{,]([a-zA-Z_][a-zA-Z0-9_]*)="/g)]
      .map((match) => match[1]!);
    assert.equal(
      new Set(labels).size,
      labels.length,
      `labels repeat in ${line}`,
    );
  }
}

Deno.test("createMetricsPublisher() refuses rule tags that become the same label or tag key", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ "a.b": "type", a_b: "body.x" }, /rules\[0\]\.tags\.a_b: .*"a_b"/],
    [{ __x: "type", _x: "body.x" }, /rules\[0\]\.tags\._x: .*"_x"/],
    [{ "a:b": "type", a_b: "body.x" }, /rules\[0\]\.tags\.a_b: .*"a_b"/],
  ];
  for (const [tags, message] of cases) {
    await assert.rejects(
      createMetricsPublisher({
        prometheus: { port: 0 },
        rules: [{ name: "msgs", kind: "counter", tags }],
      }),
      { name: "TypeError", message },
    );
  }
  // A StatsD tag key keeps the dot, so only a colon clashes there.
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125 },
      rules: [{
        name: "msgs",
        kind: "counter",
        tags: { "a:b": "type", a_b: "body.x" },
      }],
    }),
    { name: "TypeError", message: /rules\[0\]\.tags\.a_b: .*StatsD tag "a_b"/ },
  );
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125, tags: { "env:x": "a", env_x: "b" } },
    }),
    { name: "TypeError", message: /statsd\.tags\.env_x: .*"env_x"/ },
  );
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125, tags: { "env:x": "a" } },
      rules: [{ name: "msgs", kind: "counter", tags: { env_x: "type" } }],
    }),
    {
      name: "TypeError",
      message: /rules\[0\]\.tags\.env_x: .*global tag "env:x"/,
    },
  );
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125, tags: { destination: "a" } },
    }),
    { name: "TypeError", message: /statsd\.tags\.destination: .*itself/ },
  );

  // Tags that stay apart give a scrape Prometheus accepts.
  await using listener = await UdpListener.open();
  await using metrics = await createMetricsPublisher({
    statsd: { port: listener.port, tags: { env: "test" } },
    prometheus: { port: 0 },
    rules: [{
      name: "msgs",
      kind: "counter",
      tags: { "a.b": "type", _y: "body.x", env: "body.env" },
    }],
  });
  await metrics.publish(
    createMessage({ type: "t", body: { x: "x", env: "prod" } }),
  );
  const { text } = await scrape(metrics.prometheusPort);
  assertValidExposition(text);
  assert.match(text, /^fanout_msgs_total\{_y="x",a_b="t",env="prod"\} 1$/m);
  const lines = await listener.waitFor((lines) =>
    lines.some((line) => line.startsWith("fanout.msgs:"))
  );
  assert.ok(
    lines.includes("fanout.msgs:1|c|#env:prod,a.b:t,_y:x"),
    lines.join("\n"),
  );
});

Deno.test("createMetricsPublisher() refuses rules whose exposed names collide with other families", async () => {
  const cases: [unknown[], RegExp][] = [
    [
      [{ name: "x", kind: "counter" }, {
        name: "x_total",
        kind: "gauge",
        value: "body.n",
      }],
      /rules\[1\]\.name: "x_total" .*"fanout_x_total".*rule "x"/,
    ],
    [
      [{ name: "received_total", kind: "counter" }],
      /rules\[0\]\.name: "received_total" .*"fanout_received_total".*itself/,
    ],
    [
      [{ name: "h", kind: "histogram", value: "body.n" }, {
        name: "h_count",
        kind: "gauge",
        value: "body.n",
      }],
      /rules\[1\]\.name: "h_count" .*"fanout_h_count".*rule "h"/,
    ],
    [
      [{ name: "delivery_latency_bucket", kind: "gauge", value: "body.n" }],
      /rules\[0\]\.name: .*"fanout_delivery_latency_bucket".*itself/,
    ],
    [
      [{ name: "series_dropped_total", kind: "gauge", value: "body.n" }],
      /rules\[0\]\.name: .*"fanout_series_dropped_total".*itself/,
    ],
  ];
  for (const [rules, message] of cases) {
    await assert.rejects(
      createMetricsPublisher({
        prometheus: { port: 0 },
        rules: rules as never,
      }),
      { name: "TypeError", message },
    );
  }
  // StatsD keeps the dot, so "a.b" and "a_b" are two metrics there but one
  // name in Prometheus.
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125 },
      prometheus: { port: 0 },
      rules: [{ name: "a.b", kind: "counter" }, {
        name: "a_b",
        kind: "counter",
      }],
    }),
    { name: "TypeError", message: /rules\[1\]\.name: .*"fanout_a_b_total"/ },
  );
  await assert.rejects(
    createMetricsPublisher({
      statsd: { port: 8125 },
      rules: [{ name: "a:b", kind: "counter" }, {
        name: "a_b",
        kind: "gauge",
        value: "body.n",
      }],
    }),
    { name: "TypeError", message: /rules\[1\]\.name: .*StatsD.*"fanout\.a_b"/ },
  );

  // Rules of one name and shape still share a family, and the scrape of
  // names that are close but apart is valid.
  await using metrics = await createMetricsPublisher({
    prometheus: { port: 0 },
    rules: [
      { name: "x", kind: "counter", tags: { type: "type" } },
      { name: "x", kind: "counter", match: { type: "b" } },
      { name: "h", kind: "histogram", value: "body.n" },
      { name: "h_total", kind: "gauge", value: "body.n" },
      { name: "received_count", kind: "gauge", value: "body.n" },
    ],
  });
  await metrics.publishBatch([
    createMessage({ type: "a", body: { n: 1 } }),
    createMessage({ type: "b", body: { n: 2 } }),
  ]);
  const { text } = await scrape(metrics.prometheusPort);
  assertValidExposition(text);
  const series = samples(text);
  assert.equal(series.get('fanout_x_total{type="a"}'), 1);
  assert.equal(series.get('fanout_x_total{type="b"}'), 1);
  assert.equal(series.get("fanout_x_total"), 1);
  assert.equal(series.get("fanout_h_count"), 2);
  assert.equal(series.get("fanout_h_total"), 2);
});

Deno.test("createMetricsPublisher() keeps the package's own series when rules reach maxSeries", async () => {
  await using listener = await UdpListener.open();
  const hub = new EventHub();
  const maxSeries = 20;
  await using metrics = await createMetricsPublisher({
    statsd: { port: listener.port, flushIntervalMs: 0 },
    prometheus: { port: 0, maxSeries },
    rules: [
      { name: "hits", kind: "counter", tags: { user: "body.user" } },
      {
        name: "amount",
        kind: "gauge",
        value: "body.amount",
        match: { type: "pay" },
      },
      {
        name: "big",
        kind: "counter",
        tags: { note: "body.note" },
        match: { type: "big" },
      },
    ],
  }, { events: hub });

  for (let i = 0; i < 500; i++) {
    await metrics.publish(
      createMessage({ type: "t", body: { user: `user-${i}` } }),
    );
  }
  hub.emit({
    type: "received",
    destination: "late-destination",
    messageId: "m",
  });
  hub.emit({
    type: "retried",
    destination: "late-destination",
    messageId: "m",
    attempt: 1,
    delayMs: 1,
    error: new Error("down"),
  });
  hub.emit({
    type: "delivered",
    destination: "late-destination",
    messageId: "m",
    attempts: 2,
    durationMs: 3,
  });
  hub.emit({
    type: "dead-lettered",
    destination: "late-destination",
    messageId: "n",
    attempts: 1,
    error: new Error("refused"),
  });
  hub.emit({
    type: "dropped",
    destination: "late-destination",
    messageId: "o",
    attempts: 1,
    error: new Error("slow"),
  });
  hub.emit({ type: "queue-depth", depth: 3, capacity: 50 });
  await metrics.publish(createMessage({ type: "pay", body: {} }));
  await metrics.publish(
    createMessage({ type: "big", body: { note: "x".repeat(70_000) } }),
  );
  const deadline = Date.now() + 3000;
  while (metrics.statsdSendErrors === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(metrics.statsdSendErrors, 1);

  const { text } = await scrape(metrics.prometheusPort);
  assertValidExposition(text);
  const series = samples(text);
  const ruleSeries = [...series.keys()].filter((key) =>
    key.startsWith("fanout_hits_total{") ||
    key.startsWith("fanout_delivery_latency_count{")
  );
  assert.equal(ruleSeries.length, maxSeries);
  assert.ok(series.get("fanout_series_dropped_total")! >= 500 - maxSeries);
  const late = '{destination="late-destination"}';
  assert.equal(series.get(`fanout_received_total${late}`), 1);
  assert.equal(series.get(`fanout_retried_total${late}`), 1);
  assert.equal(series.get(`fanout_delivered_total${late}`), 1);
  assert.equal(series.get(`fanout_dead_lettered_total${late}`), 1);
  assert.equal(series.get(`fanout_dropped_total${late}`), 1);
  assert.equal(series.get(`fanout_destination_latency_count${late}`), 1);
  assert.equal(series.get("fanout_queue_depth"), 3);
  assert.equal(series.get("fanout_queue_capacity"), 50);
  assert.equal(series.get('fanout_mapping_errors_total{rule="amount"}'), 1);
  assert.equal(series.get("fanout_statsd_send_errors_total"), 1);
});
