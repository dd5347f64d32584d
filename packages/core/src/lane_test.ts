import assert from "node:assert/strict";
import { EventHub, type FanOutEvent } from "./events.ts";
import { Lane } from "./lane.ts";
import { createMessage, type Message } from "./message.ts";
import { resolvePolicy } from "./policy.ts";
import type { Publisher } from "./publisher.ts";

function held() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let running = 0;
  let most = 0;
  const calls: string[][] = [];
  const publisher: Publisher = {
    async publish(message) {
      calls.push([message.id]);
      most = Math.max(most, ++running);
      await released;
      running--;
    },
    async publishBatch(messages: readonly Message[]) {
      calls.push(messages.map((m) => m.id));
      most = Math.max(most, ++running);
      await released;
      running--;
    },
    close: () => Promise.resolve(),
  };
  return { publisher, release, calls, most: () => most };
}

const m = (id: string) => createMessage({ id, body: {} });
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("Lane runs no more calls at once than its concurrency", async () => {
  const target = held();
  const lane = new Lane(
    "d",
    target.publisher,
    resolvePolicy({ concurrency: 3 }),
    new EventHub(),
  );

  const outcomes = Array.from(
    { length: 10 },
    (_, i) => lane.submit(m(`m${i}`), undefined),
  );
  await tick();
  assert.equal(target.calls.length, 3);
  assert.equal(lane.buffered, 7);

  target.release();
  const results = await Promise.all(outcomes);
  assert.ok(results.every((r) => r.ok));
  assert.equal(target.most(), 3);
  await lane.close();
});

Deno.test("Lane gathers a batch until it is full or its linger passes", async () => {
  const target = held();
  target.release();
  const lane = new Lane(
    "db",
    target.publisher,
    resolvePolicy({ batchSize: 4, lingerMs: 30, concurrency: 1 }),
    new EventHub(),
  );

  const full = ["a", "b", "c", "d"].map((id) => lane.submit(m(id), undefined));
  await Promise.all(full);
  assert.deepEqual(target.calls, [["a", "b", "c", "d"]]);

  const start = performance.now();
  await Promise.all(["e", "f"].map((id) => lane.submit(m(id), undefined)));
  assert.ok(performance.now() - start >= 25);
  assert.deepEqual(target.calls[1], ["e", "f"]);
  await lane.close();
});

Deno.test("Lane cancels a buffered message when its signal aborts, without calling the destination", async () => {
  const target = held();
  const events: FanOutEvent[] = [];
  const hub = new EventHub();
  hub.subscribe((e) => events.push(e));
  const lane = new Lane(
    "d",
    target.publisher,
    resolvePolicy({ concurrency: 1, required: false }),
    hub,
  );
  const controller = new AbortController();

  const first = lane.submit(m("first"), undefined);
  const second = lane.submit(m("second"), controller.signal);
  await tick();
  controller.abort(new Error("stop"));
  const cancelled = await second;
  target.release();
  await first;

  assert.equal(cancelled.ok, false);
  assert.equal(cancelled.attempts, 0);
  assert.match(
    String(cancelled.error),
    /"second" to destination "d": cancelled/,
  );
  assert.deepEqual(target.calls, [["first"]]);
  assert.deepEqual(
    events.filter((e) => e.type === "dropped").map((e) =>
      "messageId" in e ? e.messageId : ""
    ),
    ["second"],
  );
  await lane.close();
});

Deno.test("Lane.close() refuses messages still waiting for room", async () => {
  const target = held();
  const lane = new Lane(
    "d",
    target.publisher,
    resolvePolicy({ concurrency: 1, bufferSize: 1 }),
    new EventHub(),
  );

  const running = lane.submit(m("running"), undefined);
  await tick();
  const buffered = lane.submit(m("buffered"), undefined);
  const waiting = lane.submit(m("waiting"), undefined);
  await tick();
  const closing = lane.close();
  target.release();
  await closing;

  assert.equal((await running).ok, true);
  for (const outcome of [await buffered, await waiting]) {
    assert.equal(outcome.ok, false);
    assert.match(String(outcome.error), /the fan-out closed first/);
  }
  assert.equal((await lane.submit(m("late"), undefined)).ok, false);
});
