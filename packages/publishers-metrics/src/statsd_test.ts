import { getLogger } from "@logtape/logtape";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { metricsOptionsSchema } from "./options.ts";
import type { MetricDef } from "./metric.ts";
import { StatsdClient } from "./statsd.ts";
import { UdpListener } from "../testdata/udp_listener.ts";

const counter: MetricDef = {
  name: "hits",
  kind: "counter",
  help: "",
  buckets: [],
};

function statsdOptions(port: number, extra: Record<string, unknown> = {}) {
  return metricsOptionsSchema.parse({ statsd: { port, ...extra } }).statsd!;
}

Deno.test("StatsdClient packs lines into datagrams no larger than maxPacketBytes, in order", async () => {
  await using listener = await UdpListener.open();
  const client = await StatsdClient.open(
    statsdOptions(listener.port, { maxPacketBytes: 100, prefix: "t." }),
    getLogger(["test"]),
  );

  for (let i = 0; i < 200; i++) client.record(counter, i, { n: String(i) });
  await client.close();

  const lines = await listener.waitFor((lines) => lines.length === 200);
  assert.deepEqual(
    lines,
    Array.from({ length: 200 }, (_, i) => `t.hits:${i}|c|#n:${i}`),
  );
  assert.ok(listener.datagrams.every((d) => Buffer.byteLength(d) <= 100));
  assert.ok(listener.datagrams.length < 200);
});

Deno.test("StatsdClient sends after flushIntervalMs without a flush call", async () => {
  await using listener = await UdpListener.open();
  const client = await StatsdClient.open(
    statsdOptions(listener.port, { flushIntervalMs: 20 }),
    getLogger(["test"]),
  );

  client.record(counter, 1, {});
  client.record(counter, 2, {});
  await new Promise((resolve) => setTimeout(resolve, 5));
  const early = listener.datagrams.length;
  const lines = await listener.waitFor((lines) => lines.length === 2);
  await client.close();

  assert.equal(early, 0);
  assert.deepEqual(lines, ["fanout.hits:1|c", "fanout.hits:2|c"]);
  assert.equal(listener.datagrams.length, 1);
});

Deno.test("StatsdClient sets a negative gauge through zero in one datagram", async () => {
  await using listener = await UdpListener.open();
  const client = await StatsdClient.open(
    statsdOptions(listener.port, { tags: { env: "a|b" } }),
    getLogger(["test"]),
  );
  const gauge: MetricDef = { ...counter, name: "temp", kind: "gauge" };

  client.record(gauge, -4, {});
  await client.close();
  await client.close();

  await listener.waitFor((lines) => lines.length === 2);
  assert.deepEqual(listener.datagrams, [
    "fanout.temp:0|g|#env:a_b\nfanout.temp:-4|g|#env:a_b",
  ]);
});
