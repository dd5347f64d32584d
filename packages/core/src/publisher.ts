import type { Message } from "./message.ts";

/**
 * Options for one call to a {@linkcode Publisher}.
 *
 * @since 0.1.0
 */
export interface PublishOptions {
  /**
   * Aborted when the caller stops waiting: the attempt timed out or the
   * worker is shutting down. A publisher should stop its work and reject
   * with `signal.reason`.
   */
  signal?: AbortSignal;
}

/**
 * What `publishBatch` reports when some messages of a batch were refused
 * while the rest landed.
 *
 * @since 0.1.0
 */
export interface BatchResult {
  /** Message id to the error that message alone got. */
  readonly failures: ReadonlyMap<string, unknown>;
}

/**
 * The contract every destination implements.
 *
 * `publish` must be safe to call again with the same message id: the
 * fan-out retries after a timeout, and a message can be delivered again
 * after a crash. Throw a `PermanentError` to refuse a message for good.
 *
 * @example A destination that keeps messages in memory
 * ```ts
 * import type { Message, Publisher } from "@fanout/core";
 *
 * const seen = new Map<string, Message>();
 * const memory: Publisher = {
 *   publish(message) {
 *     seen.set(message.id, message);
 *     return Promise.resolve();
 *   },
 *   close() {
 *     return Promise.resolve();
 *   },
 * };
 * ```
 *
 * @since 0.1.0
 */
export interface Publisher {
  /**
   * Delivers one message.
   *
   * @param message The message.
   * @param options The abort signal.
   */
  publish(message: Message, options?: PublishOptions): Promise<void>;
  /**
   * Delivers several messages in one round trip. Resolves when every
   * message either landed or is listed in the result's failures; rejects
   * when the batch as a whole failed.
   *
   * @param messages The messages, at least one.
   * @param options The abort signal.
   */
  publishBatch?(
    messages: readonly Message[],
    options?: PublishOptions,
  ): Promise<BatchResult | void>;
  /** Flushes and releases what the publisher holds. A second call does nothing. */
  close?(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose]?(): Promise<void>;
}

/**
 * Tells whether a value fulfils the {@linkcode Publisher} contract: a
 * `publish` function, an optional `publishBatch` function, and a way to
 * close.
 *
 * @example Check a value
 * ```ts
 * import { isPublisher } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(!isPublisher({ publish: "nope" }));
 * ```
 *
 * @param value Anything.
 * @returns Whether it can be used as a publisher.
 * @since 0.1.0
 */
export function isPublisher(value: unknown): value is Publisher {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<PropertyKey, unknown>;
  if (typeof candidate.publish !== "function") return false;
  if (
    candidate.publishBatch !== undefined &&
    typeof candidate.publishBatch !== "function"
  ) {
    return false;
  }
  return typeof candidate.close === "function" ||
    typeof candidate[Symbol.asyncDispose] === "function";
}

/**
 * Closes a publisher through `close()`, or through `Symbol.asyncDispose`
 * when it has no `close()`.
 *
 * @example Close what was opened
 * ```ts
 * import { closePublisher, type Publisher } from "@fanout/core";
 *
 * const publisher: Publisher = {
 *   publish: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * await closePublisher(publisher);
 * ```
 *
 * @param publisher The publisher.
 * @returns Resolves once it is closed.
 * @throws Whatever the publisher's close throws.
 * @since 0.1.0
 */
export async function closePublisher(publisher: Publisher): Promise<void> {
  const dispose = publisher[Symbol.asyncDispose];
  if (publisher.close) {
    await publisher.close();
  } else if (dispose) {
    await dispose.call(publisher);
  }
}
