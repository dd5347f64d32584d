import type { Message } from "./message.ts";
import {
  type BatchResult,
  closePublisher,
  type Publisher,
  type PublishOptions,
} from "./publisher.ts";

/**
 * Options for {@linkcode BatchingPublisher}.
 *
 * @since 0.1.0
 */
export interface BatchingOptions {
  /**
   * The most messages in one batch.
   *
   * @default {100}
   */
  batchSize?: number;
  /**
   * How long a partial batch waits for more messages.
   *
   * @default {10}
   */
  lingerMs?: number;
}

interface Pending {
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

/**
 * Gathers single `publish` calls into `publishBatch` calls: a batch goes out
 * when it is full or when its first message has waited `lingerMs`. Each
 * caller's promise settles with its own message's outcome, so one refused
 * message fails alone.
 *
 * A caller whose signal aborts before its batch is sent is taken out of the
 * batch; once sent, the batch is cancelled only if every caller in it has
 * aborted.
 *
 * @example Batch two publishes
 * ```ts
 * import { BatchingPublisher, createMessage, type Message } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const batches: number[] = [];
 * await using batching = new BatchingPublisher({
 *   publish: () => Promise.resolve(),
 *   publishBatch: (messages: readonly Message[]) => {
 *     batches.push(messages.length);
 *     return Promise.resolve();
 *   },
 *   close: () => Promise.resolve(),
 * }, { batchSize: 2 });
 * await Promise.all([
 *   batching.publish(createMessage({ body: 1 })),
 *   batching.publish(createMessage({ body: 2 })),
 * ]);
 * assert.deepEqual(batches, [2]);
 * ```
 *
 * @since 0.1.0
 */
export class BatchingPublisher implements Publisher {
  #target: Publisher;
  #batchSize: number;
  #lingerMs: number;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  /**
   * Wraps a publisher that has `publishBatch`.
   *
   * @param target The publisher.
   * @param options Batch size and linger.
   * @throws {TypeError} If the publisher has no `publishBatch`.
   * @throws {RangeError} If the batch size is below 1 or linger below 0.
   */
  constructor(target: Publisher, options: BatchingOptions = {}) {
    const { batchSize = 100, lingerMs = 10 } = options;
    if (typeof target.publishBatch !== "function") {
      throw new TypeError(
        "Cannot batch publisher: it has no publishBatch method",
      );
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot batch publisher: batchSize must be a whole number of at least 1, got ${batchSize}`,
      );
    }
    if (!(lingerMs >= 0)) {
      throw new RangeError(
        `Cannot batch publisher: lingerMs must be at least 0, got ${lingerMs}`,
      );
    }
    this.#target = target;
    this.#batchSize = batchSize;
    this.#lingerMs = lingerMs;
  }

  /**
   * Queues a message for the next batch.
   *
   * @param message The message.
   * @param options The caller's abort signal.
   * @returns Settles with this message's outcome in its batch.
   * @throws {Error} If the publisher is closing, or the message was refused.
   */
  publish(message: Message, options: PublishOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closing) {
      return Promise.reject(
        new Error(
          `Cannot publish message "${message.id}": the batching publisher is closing`,
        ),
      );
    }

    return new Promise<void>((resolve, reject) => {
      const entry: Pending = { message, resolve, reject, signal };
      if (signal) {
        entry.onAbort = () => {
          const index = this.#pending.indexOf(entry);
          if (index >= 0) this.#pending.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.#pending.push(entry);
      if (this.#pending.length >= this.#batchSize) {
        this.#flush();
      } else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.#lingerMs);
      }
    });
  }

  /**
   * Sends what is pending, waits for every batch in flight, then closes the
   * wrapped publisher. A second call returns the first call's promise.
   *
   * @returns Resolves once closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#flush();
      await Promise.allSettled(this.#inFlight);
      await closePublisher(this.#target);
    })();
    return this.#closing;
  }

  /** Same as {@linkcode BatchingPublisher.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      this.#send(this.#pending.splice(0, this.#batchSize));
    }
  }

  #send(batch: Pending[]): void {
    const controller = new AbortController();
    let live = batch.length;
    const cancelOne = (): void => {
      live--;
      if (live === 0) controller.abort(new Error("Every caller gave up"));
    };
    for (const entry of batch) {
      if (entry.onAbort) {
        entry.signal?.removeEventListener("abort", entry.onAbort);
      }
      entry.onAbort = () => {
        entry.reject(entry.signal?.reason);
        cancelOne();
      };
      entry.signal?.addEventListener("abort", entry.onAbort, { once: true });
    }

    const messages = batch.map((entry) => entry.message);
    const sending = (async () => {
      try {
        const result: BatchResult | void = await this.#target.publishBatch!(
          messages,
          { signal: controller.signal },
        );
        for (const entry of batch) {
          const failure = result?.failures.get(entry.message.id);
          if (failure === undefined) entry.resolve();
          else entry.reject(failure);
        }
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      } finally {
        for (const entry of batch) {
          if (entry.onAbort) {
            entry.signal?.removeEventListener("abort", entry.onAbort);
          }
        }
      }
    })();
    this.#inFlight.add(sending);
    sending.finally(() => this.#inFlight.delete(sending));
  }
}
