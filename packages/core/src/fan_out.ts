import {
  describeError,
  type DestinationFailure,
  FanOutError,
} from "./errors.ts";
import { EventHub } from "./events.ts";
import { type DestinationResult, Lane } from "./lane.ts";
import type { Message } from "./message.ts";
import { type DestinationPolicy, resolvePolicy } from "./policy.ts";
import type { Publisher, PublishOptions } from "./publisher.ts";

export type { DestinationResult };

/**
 * One destination of a {@linkcode FanOutPublisher}.
 *
 * @since 0.1.0
 */
export interface Destination {
  /** A unique name, used in reports, events and dead letters. */
  readonly name: string;
  /** Where the messages go. */
  readonly publisher: Publisher;
  /**
   * Timeout, retries, batching and whether it is required.
   *
   * @default {DEFAULT_POLICY}
   */
  readonly policy?: DestinationPolicy;
}

/**
 * Options for {@linkcode FanOutPublisher}.
 *
 * @since 0.1.0
 */
export interface FanOutOptions {
  /**
   * Receives the delivery events. Pass your own to observe them.
   *
   * @default {a new EventHub}
   */
  events?: EventHub;
}

/**
 * Options for {@linkcode FanOutPublisher.deliver}.
 *
 * @since 0.1.0
 */
export interface DeliverOptions extends PublishOptions {
  /**
   * Deliver to these destinations only, such as those that failed last
   * time.
   *
   * @default {every destination}
   */
  only?: readonly string[];
  /**
   * Resolve once every destination has an outcome (`all`), or once the
   * required ones have (`required`): best-effort destinations then finish
   * in their own lanes and report through events.
   *
   * @default {"all"}
   */
  waitFor?: "all" | "required";
}

/**
 * What happened to a message at every destination.
 *
 * @since 0.1.0
 */
export interface DeliveryReport {
  /** The message. */
  readonly messageId: string;
  /** Every required destination took the message. */
  readonly ok: boolean;
  /** One entry per destination with an outcome, in the order they were given. */
  readonly results: readonly DestinationResult[];
  /** Best-effort destinations still working on the message (`waitFor: "required"`). */
  readonly pending: readonly string[];
  /** From the start to the last destination's outcome. */
  readonly durationMs: number;
}

/**
 * Sends each message to every destination at once. Each destination has
 * its own lane: a bounded buffer, its own concurrency and batching, so a
 * destination that throws, hangs or slows down affects only itself. Each
 * attempt is cut at the destination's timeout (its signal aborts), failed
 * attempts are retried with exponential backoff and jitter, and only the
 * destination that failed is retried. A `PermanentError` ends a
 * destination's attempts at once. When a lane's buffer is full its policy
 * either blocks, holding the caller back, or drops the message there.
 *
 * The caller's signal stops waiting and cancels the attempts under way; it
 * cannot undo a write a destination has already made.
 *
 * @example Deliver and read the report
 * ```ts
 * import { createMessage, FanOutPublisher } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * await using fanOut = new FanOutPublisher([
 *   { name: "ok", publisher: { publish: () => Promise.resolve(), close: () => Promise.resolve() } },
 *   {
 *     name: "down",
 *     publisher: { publish: () => Promise.reject(new Error("down")), close: () => Promise.resolve() },
 *     policy: { maxAttempts: 2, backoffMs: 1, required: false },
 *   },
 * ]);
 * const report = await fanOut.deliver(createMessage({ body: {} }));
 * assert.ok(report.ok);
 * assert.equal(report.results[1]?.attempts, 2);
 * ```
 *
 * @since 0.1.0
 */
export class FanOutPublisher implements Publisher {
  #lanes: Lane[];
  #events: EventHub;
  #closing: Promise<void> | undefined;

  /**
   * Makes a fan-out over the given destinations.
   *
   * @param destinations At least one destination, with unique names.
   * @param options Where events go.
   * @throws {TypeError} If there is no destination, or two share a name.
   * @throws {RangeError} If a policy field is out of range.
   */
  constructor(
    destinations: readonly Destination[],
    options: FanOutOptions = {},
  ) {
    const { events = new EventHub() } = options;
    if (destinations.length === 0) {
      throw new TypeError("Cannot create fan-out: no destination given");
    }
    const names = new Set<string>();
    for (const { name } of destinations) {
      if (names.has(name)) {
        throw new TypeError(
          `Cannot create fan-out: destination "${name}" is given twice`,
        );
      }
      names.add(name);
    }

    this.#events = events;
    this.#lanes = destinations.map((d) =>
      new Lane(d.name, d.publisher, resolvePolicy(d.policy), events)
    );
  }

  /** The destinations' names, in order. */
  get destinations(): readonly string[] {
    return this.#lanes.map((lane) => lane.name);
  }

  /** Where delivery events go. */
  get events(): EventHub {
    return this.#events;
  }

  /**
   * Sends a message to every destination (or to `only` those named) and
   * reports each one's outcome. Never throws for a destination's failure.
   *
   * @param message The message.
   * @param options The abort signal and the destinations to use.
   * @returns One result per destination.
   * @throws {RangeError} If `only` names an unknown destination.
   * @throws {Error} If the fan-out is closed.
   */
  async deliver(
    message: Message,
    options: DeliverOptions = {},
  ): Promise<DeliveryReport> {
    const { signal, only, waitFor = "all" } = options;
    if (this.#closing) {
      throw new Error(
        `Cannot deliver message "${message.id}": the fan-out is closed`,
      );
    }
    const lanes = only ? this.#select(only) : this.#lanes;

    const start = performance.now();
    const outcomes = lanes.map((lane) => lane.submit(message, signal));
    const awaited = waitFor === "all"
      ? lanes.map((_, i) => i)
      : lanes.flatMap((lane, i) => lane.policy.required ? [i] : []);
    const settled = await Promise.all(awaited.map((i) => outcomes[i]!));
    const waited = new Set(awaited);
    return {
      messageId: message.id,
      ok: settled.every((r) => r.ok || !r.required),
      results: settled,
      pending: lanes.flatMap((lane, i) => waited.has(i) ? [] : [lane.name]),
      durationMs: performance.now() - start,
    };
  }

  /**
   * Waits until no destination has a message buffered or in flight, such as
   * best-effort deliveries left running by `waitFor: "required"`.
   *
   * @returns Resolves once every lane is idle.
   */
  async idle(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.idle()));
  }

  /**
   * Sends a message to every destination.
   *
   * @param message The message.
   * @param options The abort signal.
   * @returns Resolves when every required destination took the message.
   * @throws {FanOutError} Holding each required destination's error.
   */
  async publish(message: Message, options: PublishOptions = {}): Promise<void> {
    const report = await this.deliver(message, options);
    if (!report.ok) throw new FanOutError(message.id, failuresOf(report));
  }

  /**
   * Closes every destination, even when some fail to close.
   *
   * @returns Resolves once all are closed. A second call returns the same
   * promise.
   * @throws {Error} The one destination's error when a single one failed to
   * close.
   * @throws {AggregateError} When several failed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const outcomes = await Promise.allSettled(
        this.#lanes.map((lane) => lane.close()),
      );
      const errors = outcomes.flatMap((o, i) =>
        o.status === "rejected"
          ? [
            new Error(
              `Cannot close destination "${this.#lanes[i]?.name}": ${
                describeError(o.reason)
              }`,
              { cause: o.reason },
            ),
          ]
          : []
      );
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        throw new AggregateError(
          errors,
          `Cannot close fan-out: ${errors.length} destinations failed to close`,
        );
      }
    })();
    return this.#closing;
  }

  /** Same as {@linkcode FanOutPublisher.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #select(only: readonly string[]): Lane[] {
    return only.map((name) => {
      const lane = this.#lanes.find((l) => l.name === name);
      if (!lane) {
        throw new RangeError(
          `Cannot deliver to destination "${name}": no such destination`,
        );
      }
      return lane;
    });
  }
}

/**
 * Lists the required destinations that failed in a report.
 *
 * @param report A delivery report.
 * @returns Each failed required destination with its error.
 */
export function failuresOf(report: DeliveryReport): DestinationFailure[] {
  return report.results
    .filter((r) => !r.ok && r.required)
    .map((r) => ({
      destination: r.destination,
      error: r.error,
      attempts: r.attempts,
    }));
}
