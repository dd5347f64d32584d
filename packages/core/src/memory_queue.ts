import { ClosedError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { Message } from "./message.ts";
import type { Delivery, Source } from "./source.ts";

/**
 * Options for {@linkcode MemoryQueue}.
 *
 * @since 0.1.0
 */
export interface MemoryQueueOptions {
  /**
   * The most messages the queue holds; `push` waits while it is full.
   *
   * @default {1000}
   */
  capacity?: number;
  /** Receives `queue-depth` events when the depth changes. */
  events?: EventHub;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/**
 * A bounded in-memory queue: the embedded source. The producer's `push`
 * waits only for room in the queue, never for the destinations.
 *
 * An in-memory queue keeps nothing across a restart, so its deliveries
 * cannot be given back: `nack` returns `false` and the consumer records the
 * message as a dead letter.
 *
 * @example Push and receive
 * ```ts
 * import { createMessage, MemoryQueue } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const queue = new MemoryQueue({ capacity: 1 });
 * await queue.push(createMessage({ id: "m1", body: {} }));
 * assert.equal(queue.tryPush(createMessage({ id: "m2", body: {} })), false);
 * const delivery = await queue.receive();
 * assert.equal(delivery?.message.id, "m1");
 * ```
 *
 * @since 0.1.0
 */
export class MemoryQueue implements Source {
  // TODO: bound the queue in bytes as well as in messages; only the message
  // count is limited now, so very large bodies can still use much memory.
  readonly #capacity: number;
  readonly #events: EventHub | undefined;
  #items: Message[] = [];
  #head = 0;
  #pushers: (Waiter<void> & { message: Message })[] = [];
  #receivers: Waiter<Delivery | undefined>[] = [];
  #closed = false;

  /**
   * Makes an empty queue.
   *
   * @param options The capacity and where depth events go.
   * @throws {RangeError} If the capacity is not a whole number of at least 1.
   */
  constructor(options: MemoryQueueOptions = {}) {
    const { capacity = 1000, events } = options;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create queue: capacity must be a whole number of at least 1, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
    this.#events = events;
    this.#reportDepth();
  }

  /** The most messages the queue holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many messages wait in the queue. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds a message, waiting while the queue is full.
   *
   * @param message The message.
   * @param options A signal that gives up the wait.
   * @returns Resolves once the message is in the queue.
   * @throws {ClosedError} If the queue is closed, or closes while waiting.
   */
  push(
    message: Message,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const { signal } = options;
    if (this.#closed) return Promise.reject(this.#closedError(message));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryPush(message)) return Promise.resolve();

    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#pushers.indexOf(waiter);
        if (index >= 0) this.#pushers.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter = {
        message,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (reason: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pushers.push(waiter);
    });
  }

  /**
   * Adds a message if there is room.
   *
   * @param message The message.
   * @returns `true` if it was added, `false` if the queue is full.
   * @throws {ClosedError} If the queue is closed.
   */
  tryPush(message: Message): boolean {
    if (this.#closed) throw this.#closedError(message);
    const receiver = this.#receivers.shift();
    if (receiver) {
      receiver.resolve(this.#deliveryOf(message));
      return true;
    }
    if (this.size >= this.#capacity || this.#pushers.length > 0) return false;
    this.#items.push(message);
    this.#reportDepth();
    return true;
  }

  /**
   * Takes the next message, waiting for one.
   *
   * @param options A signal that gives up the wait.
   * @returns The delivery, or `undefined` once closed and empty.
   */
  receive(
    options: { signal?: AbortSignal } = {},
  ): Promise<Delivery | undefined> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const message = this.#take();
    if (message) return Promise.resolve(this.#deliveryOf(message));
    if (this.#closed) return Promise.resolve(undefined);

    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#receivers.indexOf(waiter);
        if (index >= 0) this.#receivers.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter<Delivery | undefined> = {
        resolve: (value) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#receivers.push(waiter);
    });
  }

  /**
   * Takes every message still waiting, without waiting for more. Used at
   * shutdown to account for what was never started.
   *
   * @returns The messages, oldest first.
   */
  drain(): Message[] {
    const rest: Message[] = [];
    for (let m = this.#take(); m; m = this.#take()) rest.push(m);
    return rest;
  }

  /**
   * Stops intake: later pushes throw, and pushes still waiting for room are
   * refused. Messages already queued can still be received.
   *
   * @returns Resolves at once.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const pusher of this.#pushers.splice(0)) {
      pusher.reject(this.#closedError(pusher.message));
    }
    if (this.size === 0) {
      for (const receiver of this.#receivers.splice(0)) {
        receiver.resolve(undefined);
      }
    }
    return Promise.resolve();
  }

  #take(): Message | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const message = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    const pusher = this.#pushers.shift();
    if (pusher) {
      this.#items.push(pusher.message);
      pusher.resolve();
    }
    this.#reportDepth();
    if (this.#closed && this.size === 0) {
      for (const receiver of this.#receivers.splice(0)) {
        receiver.resolve(undefined);
      }
    }
    return message;
  }

  #deliveryOf(message: Message): Delivery {
    return {
      message,
      ack: () => Promise.resolve(),
      nack: () => Promise.resolve(false),
    };
  }

  #reportDepth(): void {
    this.#events?.emit({
      type: "queue-depth",
      depth: this.size,
      capacity: this.#capacity,
    });
  }

  #closedError(message: Message): ClosedError {
    return new ClosedError(
      `Cannot push message "${message.id}": the queue is closed`,
    );
  }
}
