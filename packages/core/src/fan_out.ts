import {
  ExponentialBackoff,
  handleWhen,
  isTaskCancelledError,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from "cockatiel";
import { BatchingPublisher } from "./batcher.ts";
import {
  describeError,
  type DestinationFailure,
  FanOutError,
  isPermanentError,
} from "./errors.ts";
import { EventHub } from "./events.ts";
import type { Message } from "./message.ts";
import { type DestinationPolicy, resolvePolicy } from "./policy.ts";
import {
  closePublisher,
  type Publisher,
  type PublishOptions,
} from "./publisher.ts";

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
}

/**
 * What happened to a message at one destination.
 *
 * @since 0.1.0
 */
export interface DestinationResult {
  /** The destination's name. */
  readonly destination: string;
  /** Whether the destination is required. */
  readonly required: boolean;
  /** Whether it took the message. */
  readonly ok: boolean;
  /** How many attempts were made. */
  readonly attempts: number;
  /** When the first attempt started, from `performance.now()`. */
  readonly startedAt: number;
  /** From the first attempt's start to the outcome. */
  readonly durationMs: number;
  /** The last error, when it did not take the message. */
  readonly error?: unknown;
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
  /** One entry per destination tried, in the order they were given. */
  readonly results: readonly DestinationResult[];
  /** From the start to the last destination's outcome. */
  readonly durationMs: number;
}

interface Lane {
  readonly name: string;
  readonly publisher: Publisher;
  readonly policy: Readonly<Required<DestinationPolicy>>;
  readonly execute: <T>(
    fn: (context: { signal: AbortSignal; attempt: number }) => Promise<T>,
    signal: AbortSignal | undefined,
  ) => Promise<T>;
}

/**
 * Sends each message to every destination at once. A destination that
 * throws or hangs affects only itself: each attempt is cut at the
 * destination's timeout (its signal aborts), failed attempts are retried
 * with exponential backoff and jitter, and only the destination that failed
 * is retried. A `PermanentError` ends a destination's attempts at once.
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
  // TODO: give each destination a lane with its own bounded buffer; until
  // then a slow destination keeps the message's consumer slot busy until it
  // succeeds or times out, which slows intake for every destination.
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
    this.#lanes = destinations.map((d) => makeLane(d));
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
    const { signal, only } = options;
    if (this.#closing) {
      throw new Error(
        `Cannot deliver message "${message.id}": the fan-out is closed`,
      );
    }
    const lanes = only ? this.#select(only) : this.#lanes;

    const start = performance.now();
    const results = await Promise.all(
      lanes.map((lane) => this.#deliverTo(lane, message, signal)),
    );
    return {
      messageId: message.id,
      ok: results.every((r) => r.ok || !r.required),
      results,
      durationMs: performance.now() - start,
    };
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
        this.#lanes.map((lane) => closePublisher(lane.publisher)),
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

  async #deliverTo(
    lane: Lane,
    message: Message,
    signal: AbortSignal | undefined,
  ): Promise<DestinationResult> {
    const { name: destination, policy } = lane;
    const messageId = message.id;
    this.#events.emit({ type: "received", destination, messageId });

    const startedAt = performance.now();
    let attempts = 0;
    let failedAt = 0;
    let lastError: unknown;
    const result = (ok: boolean, error?: unknown): DestinationResult => ({
      destination,
      required: policy.required,
      ok,
      attempts,
      startedAt,
      durationMs: performance.now() - startedAt,
      ...(ok ? {} : { error }),
    });

    try {
      signal?.throwIfAborted();
      await lane.execute(async ({ signal: attemptSignal }) => {
        signal?.throwIfAborted();
        if (attempts > 0) {
          this.#events.emit({
            type: "retried",
            destination,
            messageId,
            attempt: attempts,
            delayMs: performance.now() - failedAt,
            error: lastError,
          });
        }
        attempts++;
        try {
          await lane.publisher.publish(message, { signal: attemptSignal });
        } catch (error) {
          lastError = error;
          failedAt = performance.now();
          throw error;
        }
      }, signal);
    } catch (error) {
      const reason = explain(error, lane, message, attempts, signal);
      this.#events.emit({
        type: policy.required ? "dead-lettered" : "dropped",
        destination,
        messageId,
        attempts,
        error: reason,
      });
      return result(false, reason);
    }

    const done = result(true);
    this.#events.emit({
      type: "delivered",
      destination,
      messageId,
      attempts,
      durationMs: done.durationMs,
    });
    return done;
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

function makeLane(destination: Destination): Lane {
  const policy = resolvePolicy(destination.policy);
  const publisher = policy.batchSize > 1 && destination.publisher.publishBatch
    ? new BatchingPublisher(destination.publisher, {
      batchSize: policy.batchSize,
      lingerMs: policy.lingerMs,
    })
    : destination.publisher;

  const retryPolicy = retry(handleWhen((error) => !isPermanentError(error)), {
    maxAttempts: policy.maxAttempts - 1,
    backoff: new ExponentialBackoff({
      initialDelay: policy.backoffMs,
      maxDelay: Math.max(policy.backoffMs, policy.maxBackoffMs),
    }),
  });
  // Aborting the signal after a successful attempt costs an exception object
  // per call, and a publisher has nothing left running by then.
  const attemptTimeout = timeout(policy.timeoutMs, {
    strategy: TimeoutStrategy.Aggressive,
    abortOnReturn: false,
  });
  const combined = wrap(retryPolicy, attemptTimeout);

  return {
    name: destination.name,
    publisher,
    policy,
    execute: (fn, signal) => combined.execute((context) => fn(context), signal),
  };
}

/** Turns the error that ended a destination's attempts into one that says where and why. */
function explain(
  error: unknown,
  lane: Lane,
  message: Message,
  attempts: number,
  signal: AbortSignal | undefined,
): unknown {
  const where =
    `Cannot deliver message "${message.id}" to destination "${lane.name}"`;
  if (signal?.aborted) {
    return new Error(
      `${where}: cancelled after ${attempts} attempt(s): ${
        describeError(signal.reason)
      }`,
      { cause: signal.reason },
    );
  }
  if (isTaskCancelledError(error)) {
    return new Error(
      `${where}: attempt ${attempts} timed out after ${lane.policy.timeoutMs} ms`,
      { cause: error },
    );
  }
  return error;
}
