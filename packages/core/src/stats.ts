import type { FanOutEvents } from "./events.ts";

/**
 * What happened at one destination so far. `received` always equals
 * `delivered + deadLettered + dropped + inFlight`.
 *
 * @since 0.1.0
 */
export interface DestinationCounts {
  /** Messages handed to the destination. */
  received: number;
  /** Messages it took. */
  delivered: number;
  /** Messages it gave up on while required: recorded as dead letters. */
  deadLettered: number;
  /** Messages it gave up on while best-effort: dropped by policy. */
  dropped: number;
  /** Attempts that failed and were tried again. */
  retried: number;
  /** Messages not settled yet. */
  inFlight: number;
}

/**
 * Tallies the fan-out's events per destination, so that the promise
 * "nothing lost in silence" can be checked at any time.
 *
 * @example Count what the fan-out did
 * ```ts
 * import { createMessage, DeliveryCounter, FanOutPublisher } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * await using fanOut = new FanOutPublisher([
 *   { name: "a", publisher: { publish: () => Promise.resolve(), close: () => Promise.resolve() } },
 * ]);
 * using counter = new DeliveryCounter(fanOut.events);
 * await fanOut.deliver(createMessage({ body: {} }));
 * assert.equal(counter.snapshot().a?.delivered, 1);
 * ```
 *
 * @since 0.1.0
 */
export class DeliveryCounter {
  #counts = new Map<string, DestinationCounts>();
  #unsubscribe: () => void;

  /**
   * Starts counting.
   *
   * @param events The fan-out's events.
   */
  constructor(events: FanOutEvents) {
    this.#unsubscribe = events.subscribe((event) => {
      if (event.type === "queue-depth") return;
      const counts = this.#of(event.destination);
      switch (event.type) {
        case "received":
          counts.received++;
          counts.inFlight++;
          break;
        case "delivered":
          counts.delivered++;
          counts.inFlight--;
          break;
        case "dead-lettered":
          counts.deadLettered++;
          counts.inFlight--;
          break;
        case "dropped":
          counts.dropped++;
          counts.inFlight--;
          break;
        case "retried":
          counts.retried++;
          break;
      }
    });
  }

  /**
   * Copies the counts.
   *
   * @returns Destination name to its counts.
   */
  snapshot(): Record<string, DestinationCounts> {
    const out: Record<string, DestinationCounts> = {};
    for (const [name, counts] of this.#counts) out[name] = { ...counts };
    return out;
  }

  /** Stops counting. */
  [Symbol.dispose](): void {
    this.#unsubscribe();
  }

  #of(destination: string): DestinationCounts {
    let counts = this.#counts.get(destination);
    if (!counts) {
      counts = {
        received: 0,
        delivered: 0,
        deadLettered: 0,
        dropped: 0,
        retried: 0,
        inFlight: 0,
      };
      this.#counts.set(destination, counts);
    }
    return counts;
  }
}
