import {
  ExponentialBackoff,
  handleWhen,
  isTaskCancelledError,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from "cockatiel";
import { describeError, isPermanentError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { Message } from "./message.ts";
import type { ResolvedPolicy } from "./policy.ts";
import { closePublisher, type Publisher } from "./publisher.ts";

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
  /** When the message entered the destination's lane, from `performance.now()`. */
  readonly startedAt: number;
  /** From entering the lane to the outcome. */
  readonly durationMs: number;
  /** The last error, when it did not take the message. */
  readonly error?: unknown;
}

interface Entry {
  readonly message: Message;
  readonly signal: AbortSignal | undefined;
  readonly startedAt: number;
  readonly resolve: (result: DestinationResult) => void;
  attempts: number;
  lastError: unknown;
  failedAt: number;
  settled: boolean;
}

/**
 * One destination's path inside the fan-out: its own bounded buffer, its
 * own concurrency, batching and retry policy, so that a slow destination
 * holds only its own buffer and never the others'.
 */
export class Lane {
  // TODO: bound the buffer in bytes as well as in messages; only the message
  // count is limited now, so very large bodies can still use much memory.
  readonly name: string;
  readonly policy: ResolvedPolicy;
  readonly #publisher: Publisher;
  readonly #events: EventHub;
  readonly #batching: boolean;
  readonly #execute: <T>(
    fn: (context: { signal: AbortSignal }) => Promise<T>,
    signal: AbortSignal | undefined,
  ) => Promise<T>;
  #buffer: Entry[] = [];
  #head = 0;
  #active = 0;
  #roomWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #linger: ReturnType<typeof setTimeout> | undefined;
  #watched = new Map<
    AbortSignal,
    { entries: Set<Entry>; onAbort: () => void }
  >();
  #locals = new WeakMap<AbortSignal, AbortSignal>();
  #closed = false;

  /**
   * Makes a lane.
   *
   * @param name The destination's name.
   * @param publisher The destination.
   * @param policy Its complete policy.
   * @param events Where delivery events go.
   */
  constructor(
    name: string,
    publisher: Publisher,
    policy: ResolvedPolicy,
    events: EventHub,
  ) {
    this.name = name;
    this.policy = policy;
    this.#publisher = publisher;
    this.#events = events;
    this.#batching = policy.batchSize > 1 &&
      typeof publisher.publishBatch === "function";

    const retryPolicy = retry(handleWhen((error) => !isPermanentError(error)), {
      maxAttempts: policy.maxAttempts - 1,
      backoff: new ExponentialBackoff({
        initialDelay: policy.backoffMs,
        maxDelay: Math.max(policy.backoffMs, policy.maxBackoffMs),
      }),
    });
    // Aborting the signal after a successful attempt costs an exception
    // object per call, and a publisher has nothing left running by then.
    const attemptTimeout = timeout(policy.timeoutMs, {
      strategy: TimeoutStrategy.Aggressive,
      abortOnReturn: false,
    });
    const combined = wrap(retryPolicy, attemptTimeout);
    this.#execute = (fn, signal) => combined.execute(fn, signal);
  }

  /** Messages waiting in the buffer. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /**
   * Hands a message to the destination. Waits for room when the buffer is
   * full and the policy blocks; gives the message up when it drops.
   *
   * @param message The message.
   * @param signal Cancels the wait, the buffered message or its attempts.
   * @returns The destination's outcome; never rejects.
   */
  async submit(
    message: Message,
    signal: AbortSignal | undefined,
  ): Promise<DestinationResult> {
    const startedAt = performance.now();
    this.#events.emit({
      type: "received",
      destination: this.name,
      messageId: message.id,
    });

    let resolve!: (result: DestinationResult) => void;
    const outcome = new Promise<DestinationResult>((r) => resolve = r);
    const entry: Entry = {
      message,
      signal,
      startedAt,
      resolve,
      attempts: 0,
      lastError: undefined,
      failedAt: 0,
      settled: false,
    };

    if (this.#closed) {
      this.#fail(
        entry,
        new Error(this.#where(message, "the fan-out is closed")),
      );
      return outcome;
    }
    while (this.buffered >= this.policy.bufferSize) {
      if (this.policy.whenFull === "drop") {
        this.#fail(
          entry,
          new Error(this.#where(
            message,
            `its buffer of ${this.policy.bufferSize} messages is full`,
          )),
        );
        return outcome;
      }
      if (!await this.#room(signal)) {
        this.#fail(
          entry,
          this.#closed
            ? new Error(this.#where(message, "the fan-out closed first"))
            : this.#cancelled(message, signal, 0),
        );
        return outcome;
      }
    }
    if (signal?.aborted) {
      this.#fail(entry, this.#cancelled(message, signal, 0));
      return outcome;
    }

    this.#watch(entry);
    this.#buffer.push(entry);
    this.#pump();
    return outcome;
  }

  /**
   * Waits until nothing is buffered or in flight.
   *
   * @returns Resolves once idle.
   */
  idle(): Promise<void> {
    if (this.buffered === 0 && this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Gives up what is still buffered, waits for the calls in flight, then
   * closes the publisher.
   *
   * @returns Resolves once the publisher is closed.
   * @throws Whatever the publisher's close throws.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#linger);
    for (const entry of this.#take(Number.MAX_SAFE_INTEGER)) {
      this.#fail(
        entry,
        new Error(this.#where(entry.message, "the fan-out closed first")),
      );
    }
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
    await this.idle();
    await closePublisher(this.#publisher);
  }

  #pump(): void {
    while (this.#active < this.policy.concurrency && this.buffered > 0) {
      if (this.#batching && this.buffered < this.policy.batchSize) {
        if (this.#linger === undefined && this.policy.lingerMs > 0) {
          this.#linger = setTimeout(() => {
            this.#linger = undefined;
            this.#start(this.#take(this.policy.batchSize));
          }, this.policy.lingerMs);
        }
        if (this.policy.lingerMs > 0) return;
      }
      this.#start(this.#take(this.#batching ? this.policy.batchSize : 1));
    }
  }

  #start(entries: Entry[]): void {
    if (entries.length === 0) return;
    if (this.#active >= this.policy.concurrency) {
      // A linger timer fired while every slot is busy: put the batch back.
      this.#buffer.splice(this.#head, 0, ...entries);
      return;
    }
    this.#active++;
    const work = this.#batching
      ? this.#sendBatch(entries)
      : this.#sendOne(entries[0]!);
    work.finally(() => {
      this.#active--;
      this.#pump();
      this.#wake();
    });
  }

  #take(count: number): Entry[] {
    const entries = this.#buffer.slice(this.#head, this.#head + count);
    this.#head += entries.length;
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    for (const entry of entries) this.#unwatch(entry);
    if (entries.length > 0) {
      for (const waiter of this.#roomWaiters.splice(0)) waiter();
    }
    return entries;
  }

  async #sendOne(entry: Entry): Promise<void> {
    const { message, signal } = entry;
    try {
      signal?.throwIfAborted();
      await this.#execute(async ({ signal: attemptSignal }) => {
        signal?.throwIfAborted();
        this.#beginAttempt(entry);
        try {
          await this.#publisher.publish(message, { signal: attemptSignal });
        } catch (error) {
          entry.lastError = error;
          entry.failedAt = performance.now();
          throw error;
        }
      }, this.#local(signal));
      this.#succeed(entry);
    } catch (error) {
      this.#fail(entry, this.#explain(entry, error));
    }
  }

  async #sendBatch(entries: Entry[]): Promise<void> {
    let pending = entries.filter((entry) => {
      if (!entry.signal?.aborted) return true;
      this.#fail(entry, this.#cancelled(entry.message, entry.signal, 0));
      return false;
    });
    if (pending.length === 0) return;
    const signals = [
      ...new Set(pending.flatMap((e) => e.signal ? [e.signal] : [])),
    ];
    const signal = signals.length === 0
      ? undefined
      : signals.length === 1
      ? signals[0]
      : AbortSignal.any(signals);

    try {
      await this.#execute(async ({ signal: attemptSignal }) => {
        signal?.throwIfAborted();
        for (const entry of pending) this.#beginAttempt(entry);
        const messages = pending.map((entry) => entry.message);
        let failures: ReadonlyMap<string, unknown> | undefined;
        try {
          const result = await this.#publisher.publishBatch!(messages, {
            signal: attemptSignal,
          });
          failures = result?.failures;
        } catch (error) {
          for (const entry of pending) {
            entry.lastError = error;
            entry.failedAt = performance.now();
          }
          throw error;
        }

        const retry: Entry[] = [];
        for (const entry of pending) {
          const failure = failures?.get(entry.message.id);
          if (failure === undefined) {
            this.#succeed(entry);
          } else if (isPermanentError(failure)) {
            this.#fail(entry, failure);
          } else {
            entry.lastError = failure;
            entry.failedAt = performance.now();
            retry.push(entry);
          }
        }
        pending = retry;
        if (pending.length > 0) {
          throw pending[0]!.lastError;
        }
      }, this.#local(signal));
    } catch (error) {
      for (const entry of pending) {
        if (!entry.settled) this.#fail(entry, this.#explain(entry, error));
      }
    }
  }

  /**
   * Cancels a buffered message when its signal aborts. Many messages share
   * one signal (the consumer's), so the lane listens once per signal rather
   * than once per message.
   */
  #watch(entry: Entry): void {
    const { signal } = entry;
    if (!signal) return;
    let watched = this.#watched.get(signal);
    if (!watched) {
      const entries = new Set<Entry>();
      const onAbort = (): void => {
        this.#watched.delete(signal);
        this.#buffer = this.#buffer.filter((e, i) =>
          i < this.#head || !entries.has(e)
        );
        for (const e of entries) {
          this.#fail(e, this.#cancelled(e.message, signal, 0));
        }
        this.#wake();
      };
      watched = { entries, onAbort };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#watched.set(signal, watched);
    }
    watched.entries.add(entry);
  }

  /**
   * A signal of this lane's own that follows the caller's. The retry and
   * timeout policies listen on the signal of every attempt under way, and
   * listeners on one shared signal get slower to add as they grow; a
   * signal per lane keeps that list as short as the lane's concurrency.
   */
  #local(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (!signal) return undefined;
    let local = this.#locals.get(signal);
    if (!local) {
      const controller = new AbortController();
      if (signal.aborted) controller.abort(signal.reason);
      else {
        signal.addEventListener(
          "abort",
          () => controller.abort(signal.reason),
          {
            once: true,
          },
        );
      }
      local = controller.signal;
      this.#locals.set(signal, local);
    }
    return local;
  }

  #unwatch(entry: Entry): void {
    const { signal } = entry;
    const watched = signal && this.#watched.get(signal);
    if (!watched) return;
    watched.entries.delete(entry);
    if (watched.entries.size === 0) {
      signal.removeEventListener("abort", watched.onAbort);
      this.#watched.delete(signal);
    }
  }

  #beginAttempt(entry: Entry): void {
    if (entry.attempts > 0) {
      this.#events.emit({
        type: "retried",
        destination: this.name,
        messageId: entry.message.id,
        attempt: entry.attempts,
        delayMs: performance.now() - entry.failedAt,
        error: entry.lastError,
      });
    }
    entry.attempts++;
  }

  #succeed(entry: Entry): void {
    if (entry.settled) return;
    entry.settled = true;
    const result = this.#result(entry, true);
    this.#events.emit({
      type: "delivered",
      destination: this.name,
      messageId: entry.message.id,
      attempts: entry.attempts,
      durationMs: result.durationMs,
    });
    entry.resolve(result);
  }

  #fail(entry: Entry, error: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    this.#events.emit({
      type: this.policy.required ? "dead-lettered" : "dropped",
      destination: this.name,
      messageId: entry.message.id,
      attempts: entry.attempts,
      error,
    });
    entry.resolve(this.#result(entry, false, error));
  }

  #result(entry: Entry, ok: boolean, error?: unknown): DestinationResult {
    return {
      destination: this.name,
      required: this.policy.required,
      ok,
      attempts: entry.attempts,
      startedAt: entry.startedAt,
      durationMs: performance.now() - entry.startedAt,
      ...(ok ? {} : { error }),
    };
  }

  /** Waits for room in the buffer; `false` when the signal aborted first. */
  #room(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const index = this.#roomWaiters.indexOf(waiter);
        if (index >= 0) this.#roomWaiters.splice(index, 1);
        resolve(false);
      };
      const waiter = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(!this.#closed);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#roomWaiters.push(waiter);
    });
  }

  #wake(): void {
    if (this.buffered === 0 && this.#active === 0) {
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
    }
  }

  #where(message: Message, state: string): string {
    return `Cannot deliver message "${message.id}" to destination "${this.name}": ${state}`;
  }

  #cancelled(
    message: Message,
    signal: AbortSignal | undefined,
    attempts: number,
  ): Error {
    return new Error(
      this.#where(
        message,
        `cancelled after ${attempts} attempt(s): ${
          describeError(signal?.reason)
        }`,
      ),
      { cause: signal?.reason },
    );
  }

  /** Says where and why a destination's attempts ended. */
  #explain(entry: Entry, error: unknown): unknown {
    const { message, signal, attempts } = entry;
    if (signal?.aborted) return this.#cancelled(message, signal, attempts);
    if (isTaskCancelledError(error)) {
      return new Error(
        this.#where(
          message,
          `attempt ${attempts} timed out after ${this.policy.timeoutMs} ms`,
        ),
        { cause: error },
      );
    }
    return entry.lastError ?? error;
  }
}
