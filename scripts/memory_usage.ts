/**
 * Measures memory under a stalled destination: a producer offers 50,000
 * messages to a consumer whose only destination never answers, and the heap
 * growth is compared with a baseline measured in the same run, the growth
 * from holding just `capacity` messages in an array. A ratio near 1 means
 * memory is bounded by the queue's capacity and not by what was offered.
 *
 * Run with `deno task bench`, or alone:
 * `deno run --v8-flags=--expose-gc scripts/memory_usage.ts`.
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a benchmark reports to its user
import {
  Consumer,
  createMessage,
  FanOutPublisher,
  MemoryQueue,
  type Message,
} from "@fanout/core";

const CAPACITY = 1000;
const CONCURRENCY = 8;
const OFFERED = 50_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("Run with --v8-flags=--expose-gc so the heap can be measured");
  Deno.exit(2);
}

function heap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

function message(i: number): Message {
  return createMessage({
    id: `m${i}`,
    type: "push",
    body: { repository: { full_name: "acme/api" }, n: i, pad: "x".repeat(200) },
  });
}

// Baseline: what `capacity + concurrency` messages cost when simply held.
const before = heap();
const held = Array.from(
  { length: CAPACITY + CONCURRENCY },
  (_, i) => message(i),
);
const baseline = heap() - before;
held.length = 0;

// The stalled run.
const start = heap();
const queue = new MemoryQueue({ capacity: CAPACITY });
const consumer = new Consumer(
  queue,
  new FanOutPublisher([{
    name: "stalled",
    publisher: {
      publish: (_m, { signal } = {}) =>
        new Promise((_, reject) =>
          signal?.addEventListener("abort", () => reject(signal.reason))
        ),
      close: () => Promise.resolve(),
    },
    policy: { timeoutMs: 600_000, maxAttempts: 1 },
  }]),
  { concurrency: CONCURRENCY },
);
let accepted = 0;
let refused = 0;
for (let i = 0; i < OFFERED; i++) {
  if (queue.tryPush(message(i))) accepted++;
  else refused++;
  if (i % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
}
const stalled = heap() - start;
await consumer.stop({ timeoutMs: 0 });

console.log(
  `offered ${OFFERED}, accepted ${accepted}, refused ${refused} (queue full)`,
);
console.log(
  `baseline: ${CAPACITY + CONCURRENCY} messages held in an array: ${
    (baseline / 1024).toFixed(0)
  } KiB`,
);
console.log(
  `stalled destination: heap grew ${(stalled / 1024).toFixed(0)} KiB`,
);
console.log(`ratio stalled/baseline: ${(stalled / baseline).toFixed(2)}`);
