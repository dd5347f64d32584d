import assert from "node:assert/strict";
import { Consumer } from "./consumer.ts";
import { MemoryDeadLetters } from "./dead_letter.ts";
import { EventHub } from "./events.ts";
import { FanOutPublisher } from "./fan_out.ts";
import { MemoryQueue } from "./memory_queue.ts";
import { createMessage, type Message } from "./message.ts";
import type { Publisher } from "./publisher.ts";

function collector(
  behave: (message: Message, signal?: AbortSignal) => Promise<void> = () =>
    Promise.resolve(),
) {
  const ids: string[] = [];
  const publisher: Publisher = {
    async publish(message, options = {}) {
      await behave(message, options.signal);
      ids.push(message.id);
    },
    close: () => Promise.resolve(),
  };
  return { publisher, ids };
}

/** A gate that holds publishes until it is opened. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { open, opened };
}

/**
 * Waits until `check` holds (at most two seconds), then a little longer so
 * that a state that would go past it has the chance to.
 */
async function steady(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}

function messages(count: number, prefix = "m"): Message[] {
  return Array.from(
    { length: count },
    (_, i) => createMessage({ id: `${prefix}${i}`, body: { i } }),
  );
}

Deno.test("Consumer delivers every pushed message to every destination", async () => {
  const a = collector();
  const b = collector();
  const queue = new MemoryQueue({ capacity: 5 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      { name: "a", publisher: a.publisher },
      { name: "b", publisher: b.publisher },
    ]),
    { concurrency: 3 },
  );

  for (const m of messages(50)) await queue.push(m);
  const receipt = await consumer.stop();

  assert.equal(receipt.received, 50);
  assert.equal(receipt.delivered, 50);
  assert.equal(a.ids.length, 50);
  assert.deepEqual(new Set(a.ids), new Set(b.ids));
  assert.equal(receipt.destinations.a?.delivered, 50);
  assert.equal(receipt.destinations.b?.inFlight, 0);
});

Deno.test("MemoryQueue.push() waits for room while a publisher is stalled, with memory bounded by the capacity", async () => {
  const stall = gate();
  const slow = collector(() => stall.opened);
  const fast = collector();
  const queue = new MemoryQueue({ capacity: 4 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "slow",
        publisher: slow.publisher,
        policy: { timeoutMs: 30_000 },
      },
      { name: "fast", publisher: fast.publisher },
    ]),
    { concurrency: 2 },
  );

  const all = messages(20);
  let pushed = 0;
  let maxDepth = 0;
  const producer = (async () => {
    for (const m of all) {
      await queue.push(m);
      pushed++;
      maxDepth = Math.max(maxDepth, queue.size);
    }
  })();
  await steady(() => pushed >= 6 && fast.ids.length >= 2);

  // Two messages are in flight, four wait in the queue, the producer waits.
  assert.equal(pushed, 2 + 4);
  assert.equal(queue.size, 4);
  assert.equal(queue.tryPush(createMessage({ body: {} })), false);
  assert.equal(fast.ids.length, 2);

  stall.open();
  await producer;
  const receipt = await consumer.stop();
  assert.ok(maxDepth <= 4);
  assert.equal(receipt.delivered, 20);
  assert.deepEqual(slow.ids.sort(), all.map((m) => m.id).sort());
});

Deno.test("Consumer.stop() loses no accepted message", async () => {
  const dest = collector(() => new Promise((r) => setTimeout(r, 1)));
  const queue = new MemoryQueue({ capacity: 100 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([{ name: "d", publisher: dest.publisher }]),
    { concurrency: 4 },
  );

  const accepted: string[] = [];
  for (const m of messages(100)) {
    if (queue.tryPush(m)) accepted.push(m.id);
  }
  const receipt = await consumer.stop({ timeoutMs: 10_000 });

  assert.equal(receipt.timedOut, false);
  assert.deepEqual(dest.ids.sort(), accepted.sort());
  assert.throws(
    () => queue.tryPush(createMessage({ id: "late", body: {} })),
    /Cannot push message "late": the queue is closed/,
  );
});

Deno.test("Consumer.stop() past its deadline records what is left as dead letters", async () => {
  const stall = gate();
  const stuck = collector((_, signal) =>
    new Promise((resolve, reject) => {
      stall.opened.then(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason));
    })
  );
  const fine = collector();
  const deadLetters = new MemoryDeadLetters();
  const queue = new MemoryQueue({ capacity: 10 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "stuck",
        publisher: stuck.publisher,
        policy: { timeoutMs: 60_000 },
      },
      { name: "fine", publisher: fine.publisher },
    ]),
    { concurrency: 2, deadLetters },
  );

  const all = messages(6);
  for (const m of all) await queue.push(m);
  const receipt = await consumer.stop({ timeoutMs: 50 });
  stall.open();

  assert.equal(receipt.timedOut, true);
  assert.equal(receipt.received, 6);
  assert.equal(receipt.deadLettered + receipt.delivered, 6);
  assert.equal(receipt.deadLettered, 6);
  const ids = deadLetters.letters.map((l) => l.message.id).sort();
  assert.deepEqual(ids, all.map((m) => m.id).sort());
  for (const letter of deadLetters.letters) {
    const started = ["m0", "m1"].includes(letter.message.id);
    assert.deepEqual(
      letter.reasons.map((r) => r.destination),
      started ? ["stuck"] : ["stuck", "fine"],
    );
    assert.match(letter.reasons[0]!.error, /Shutdown deadline of 50 ms/);
  }
  // The two started messages reached "fine" and are not sent there again.
  assert.equal(fine.ids.length, 2);
});

Deno.test("Consumer dead-letters a message a required destination refuses, and goes on", async () => {
  const picky = collector((m) =>
    m.id === "m3" ? Promise.reject(new Error("no m3")) : Promise.resolve()
  );
  const other = collector();
  const deadLetters = new MemoryDeadLetters();
  const queue = new MemoryQueue();
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "picky",
        publisher: picky.publisher,
        policy: { maxAttempts: 2, backoffMs: 1 },
      },
      { name: "other", publisher: other.publisher },
    ]),
    { deadLetters },
  );

  for (const m of messages(6)) await queue.push(m);
  const receipt = await consumer.stop();

  assert.equal(receipt.delivered, 5);
  assert.equal(receipt.deadLettered, 1);
  assert.equal(other.ids.length, 6);
  const [letter] = deadLetters.letters;
  assert.equal(letter?.message.id, "m3");
  assert.deepEqual(letter?.reasons, [
    { destination: "picky", error: "Error: no m3", attempts: 2 },
  ]);
});

Deno.test("Consumer does not dead-letter a best-effort failure", async () => {
  const deadLetters = new MemoryDeadLetters();
  const queue = new MemoryQueue();
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "flaky",
        publisher: collector(() => Promise.reject(new Error("down"))).publisher,
        policy: { required: false, maxAttempts: 1 },
      },
      { name: "main", publisher: collector().publisher },
    ]),
    { deadLetters },
  );

  for (const m of messages(3)) await queue.push(m);
  const receipt = await consumer.stop();

  assert.equal(receipt.delivered, 3);
  assert.equal(deadLetters.letters.length, 0);
  assert.equal(receipt.destinations.flaky?.dropped, 3);
});

Deno.test("Consumer keeps going when its dead-letter sink fails, and counts the unrecorded", async () => {
  const queue = new MemoryQueue();
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([{
      name: "down",
      publisher: collector(() => Promise.reject(new Error("down"))).publisher,
      policy: { maxAttempts: 1 },
    }]),
    {
      deadLetters: {
        write: () => Promise.reject(new Error("disk full")),
        close: () => Promise.resolve(),
      },
    },
  );

  await queue.push(createMessage({ id: "x", body: {} }));
  const receipt = await consumer.stop();

  assert.equal(receipt.unrecorded, 1);
  assert.equal(receipt.deadLettered, 0);
});

Deno.test("Consumer emits queue depth and supports await using", async () => {
  const hub = new EventHub();
  const depths: number[] = [];
  hub.subscribe((e) => {
    if (e.type === "queue-depth") depths.push(e.depth);
  });
  const queue = new MemoryQueue({ capacity: 3, events: hub });
  {
    await using _consumer = new Consumer(
      queue,
      new FanOutPublisher([{ name: "d", publisher: collector().publisher }], {
        events: hub,
      }),
    );
    for (let i = 0; i < 3; i++) queue.tryPush(createMessage({ body: i }));
  }
  assert.ok(queue.closed);
  assert.ok(depths.length > 0);
  assert.ok(depths.every((d) => d >= 0 && d <= 3));
});

Deno.test("Consumer keeps a slow best-effort destination from holding up the others", async () => {
  const stall = gate();
  const slow = collector(() => stall.opened);
  const fast = collector();
  const queue = new MemoryQueue({ capacity: 10 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "slow",
        publisher: slow.publisher,
        policy: {
          required: false,
          timeoutMs: 60_000,
          concurrency: 1,
          bufferSize: 5,
        },
      },
      { name: "fast", publisher: fast.publisher },
    ]),
    { concurrency: 4 },
  );

  for (const m of messages(100)) await queue.push(m);
  await steady(() => fast.ids.length >= 100);

  // Every message reached the fast destination while the slow one held one
  // message, buffered five and dropped the rest.
  assert.equal(fast.ids.length, 100);
  const counts = consumer.stats.destinations.slow!;
  assert.equal(counts.received, 100);
  assert.equal(counts.dropped, 100 - 1 - 5);
  assert.equal(counts.inFlight, 6);

  stall.open();
  const receipt = await consumer.stop();
  assert.equal(receipt.delivered, 100);
  assert.equal(receipt.deadLettered, 0);
  assert.equal(receipt.destinations.slow?.delivered, 6);
  assert.equal(receipt.destinations.slow?.inFlight, 0);
});

Deno.test("Consumer lets a fast destination run ahead of a slow required one as far as its in-flight limit", async () => {
  const stall = gate();
  const slow = collector(() => stall.opened);
  const fast = collector();
  const queue = new MemoryQueue({ capacity: 10 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([
      {
        name: "slow",
        publisher: slow.publisher,
        policy: { timeoutMs: 60_000, concurrency: 2, bufferSize: 20 },
      },
      { name: "fast", publisher: fast.publisher },
    ]),
    { concurrency: 30 },
  );

  const all = messages(60);
  let pushed = 0;
  const producer = (async () => {
    for (const m of all) {
      await queue.push(m);
      pushed++;
    }
  })();
  await steady(() => fast.ids.length >= 30 && pushed >= 40);

  // Thirty messages are in flight: the fast destination has them all, the
  // slow one holds two, buffers twenty and makes eight wait for room; the
  // queue holds ten more and the producer waits.
  assert.equal(fast.ids.length, 30);
  assert.equal(pushed, 30 + 10);
  assert.equal(slow.ids.length, 0);
  assert.equal(consumer.stats.destinations.slow?.received, 30);

  stall.open();
  await producer;
  const receipt = await consumer.stop();
  assert.equal(receipt.delivered, 60);
  assert.deepEqual(slow.ids.sort(), all.map((m) => m.id).sort());
});

Deno.test("Consumer dead-letters what a full required destination drops by policy", async () => {
  const stall = gate();
  const deadLetters = new MemoryDeadLetters();
  const queue = new MemoryQueue({ capacity: 10 });
  const consumer = new Consumer(
    queue,
    new FanOutPublisher([{
      name: "tight",
      publisher: collector(() => stall.opened).publisher,
      policy: { concurrency: 1, bufferSize: 1, whenFull: "drop" },
    }]),
    { concurrency: 10, deadLetters },
  );

  for (const m of messages(5)) await queue.push(m);
  await steady(() => consumer.stats.destinations.tight?.received === 5);
  stall.open();
  const receipt = await consumer.stop();

  assert.equal(receipt.delivered, 2);
  assert.equal(receipt.deadLettered, 3);
  assert.match(
    deadLetters.letters[0]!.reasons[0]!.error,
    /destination "tight": its buffer of 1 messages is full/,
  );
});
