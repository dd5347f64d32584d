/**
 * Benchmarks of the fan-out and the consumer against plain baselines
 * measured in the same run; `deno task bench` prints each as a ratio.
 *
 * - `fan-out`: one message to three in-memory destinations, against calling
 *   the three publishers directly with `Promise.all`.
 * - `consumer`: 1,000 messages through the bounded queue and consumer,
 *   against the same 1,000 fan-outs awaited in a plain loop.
 *
 * @module
 */
import {
  Consumer,
  createMessage,
  FanOutPublisher,
  MemoryQueue,
  type Message,
  type Publisher,
} from "@fanout/core";

function sink(): Publisher {
  return {
    publish: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

const message = createMessage({
  id: "bench",
  type: "push",
  body: { repository: { full_name: "acme/api" }, commits: [{ id: "abc" }] },
});
const batch: Message[] = Array.from(
  { length: 1000 },
  (_, i) => createMessage({ id: `m${i}`, body: { i } }),
);

const direct = [sink(), sink(), sink()];
const fanOut = new FanOutPublisher(
  direct.map((publisher, i) => ({ name: `d${i}`, publisher })),
);

Deno.bench({
  name: "direct Promise.all to 3 publishers",
  group: "fan-out",
  baseline: true,
  fn: async () => {
    await Promise.all(direct.map((p) => p.publish(message)));
  },
});

Deno.bench({
  name: "FanOutPublisher.deliver to 3 destinations",
  group: "fan-out",
  fn: async () => {
    await fanOut.deliver(message);
  },
});

Deno.bench({
  name: "1,000 deliveries in a plain loop",
  group: "consumer",
  baseline: true,
  fn: async () => {
    for (const m of batch) await fanOut.deliver(m);
  },
});

Deno.bench({
  name: "1,000 messages through MemoryQueue and Consumer",
  group: "consumer",
  fn: async () => {
    const queue = new MemoryQueue({ capacity: 256 });
    const consumer = new Consumer(
      queue,
      new FanOutPublisher(
        [sink(), sink(), sink()].map((publisher, i) => ({
          name: `d${i}`,
          publisher,
        })),
      ),
    );
    for (const m of batch) await queue.push(m);
    await consumer.stop();
  },
});
