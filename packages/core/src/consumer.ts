import { getLogger } from "@logtape/logtape";
import {
  type DeadLetter,
  deadLetterOf,
  type DeadLetterSink,
  MemoryDeadLetters,
} from "./dead_letter.ts";
import { describeError } from "./errors.ts";
import {
  type DeliveryReport,
  failuresOf,
  type FanOutPublisher,
} from "./fan_out.ts";
import type { Message } from "./message.ts";
import { MAX_TIMER_MS } from "./policy.ts";
import type { Delivery, Source } from "./source.ts";
import { DeliveryCounter, type DestinationCounts } from "./stats.ts";

const logger = getLogger(["fanout", "core", "consumer"]);

/**
 * Options for {@linkcode Consumer}.
 *
 * @since 0.1.0
 */
export interface ConsumerOptions {
  /**
   * How many messages may be in flight at once: taken from the source and
   * not yet delivered to every required destination. Each destination's own
   * `concurrency` and `bufferSize` bound its share.
   *
   * @default {64}
   */
  concurrency?: number;
  /**
   * Where messages that a required destination gave up on are recorded.
   *
   * @default {a new MemoryDeadLetters}
   */
  deadLetters?: DeadLetterSink;
  /**
   * How long `stop()` lets in-flight and queued messages finish before it
   * cancels them.
   *
   * @default {10000}
   */
  drainTimeoutMs?: number;
  /**
   * Called after each message is settled, with its report. An error it
   * throws is logged and ignored.
   */
  onSettled?: (message: Message, report: DeliveryReport) => void;
}

/**
 * Options for {@linkcode Consumer.stop}.
 *
 * @since 0.1.0
 */
export interface StopOptions {
  /**
   * How long to let messages finish before cancelling them.
   *
   * @default {the consumer's drainTimeoutMs}
   */
  timeoutMs?: number;
}

/**
 * What happened to the messages a consumer took, as printed at shutdown.
 *
 * @since 0.1.0
 */
export interface ShutdownReceipt {
  /** Messages taken from the source. */
  readonly received: number;
  /** Messages every required destination took. */
  readonly delivered: number;
  /** Messages recorded as dead letters. */
  readonly deadLettered: number;
  /** Messages given back to the source, which kept them. */
  readonly returned: number;
  /**
   * Messages neither delivered nor recorded: the dead-letter sink failed
   * too. Each is logged at error level with its whole content.
   */
  readonly unrecorded: number;
  /** Whether the drain deadline passed and work was cancelled. */
  readonly timedOut: boolean;
  /** Per destination counts. */
  readonly destinations: Readonly<Record<string, DestinationCounts>>;
  /** Errors from closing the destinations or the dead-letter sink. */
  readonly closeErrors: readonly string[];
  /** How long `stop()` took. */
  readonly durationMs: number;
}

/**
 * Takes messages from a source and fans each out, a bounded number at a
 * time. A message is acknowledged once every required destination took it,
 * or once it is recorded as a dead letter with each destination's reason;
 * one bad message never stops the others.
 *
 * @example Consume from a memory queue
 * ```ts
 * import { Consumer, createMessage, FanOutPublisher, MemoryQueue } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const queue = new MemoryQueue({ capacity: 10 });
 * const fanOut = new FanOutPublisher([{
 *   name: "memory",
 *   publisher: {
 *     publish: (m) => {
 *       seen.push(m.id);
 *       return Promise.resolve();
 *     },
 *     close: () => Promise.resolve(),
 *   },
 * }]);
 * const consumer = new Consumer(queue, fanOut);
 * await queue.push(createMessage({ id: "m1", body: {} }));
 * const receipt = await consumer.stop();
 * assert.equal(receipt.delivered, 1);
 * assert.deepEqual(seen, ["m1"]);
 * ```
 *
 * @since 0.1.0
 */
export class Consumer {
  readonly #source: Source;
  readonly #fanOut: FanOutPublisher;
  readonly #concurrency: number;
  readonly #deadLetters: DeadLetterSink;
  readonly #drainTimeoutMs: number;
  readonly #onSettled: ConsumerOptions["onSettled"];
  readonly #counter: DeliveryCounter;
  readonly #cancel = new AbortController();
  readonly #loop: Promise<void>;
  #stopping: Promise<ShutdownReceipt> | undefined;
  #resolveClosed!: (receipt: ShutdownReceipt) => void;
  #counts = { received: 0, delivered: 0, deadLettered: 0, returned: 0 };
  #unrecorded = 0;
  #inFlight = 0;

  /** Settles with the receipt once the consumer has stopped. */
  readonly closed: Promise<ShutdownReceipt>;

  /**
   * Starts consuming at once.
   *
   * @param source Where messages come from.
   * @param fanOut Where each message goes.
   * @param options Concurrency, dead letters and the drain deadline.
   * @throws {RangeError} If concurrency or the drain deadline is out of
   * range.
   */
  constructor(
    source: Source,
    fanOut: FanOutPublisher,
    options: ConsumerOptions = {},
  ) {
    const {
      concurrency = 64,
      deadLetters = new MemoryDeadLetters(),
      drainTimeoutMs = 10_000,
      onSettled,
    } = options;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(
        `Cannot create consumer: concurrency must be a whole number of at least 1, got ${concurrency}`,
      );
    }
    if (!(drainTimeoutMs >= 0 && drainTimeoutMs <= MAX_TIMER_MS)) {
      throw new RangeError(
        `Cannot create consumer: drainTimeoutMs must be from 0 to ${MAX_TIMER_MS}, got ${drainTimeoutMs}`,
      );
    }

    this.#source = source;
    this.#fanOut = fanOut;
    this.#concurrency = concurrency;
    this.#deadLetters = deadLetters;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.#onSettled = onSettled;
    this.#counter = new DeliveryCounter(fanOut.events);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#loop = this.#run();
  }

  /** Counts so far, per message and per destination. */
  get stats(): {
    received: number;
    delivered: number;
    deadLettered: number;
    inFlight: number;
    destinations: Record<string, DestinationCounts>;
  } {
    return {
      ...this.#counts,
      inFlight: this.#inFlight,
      destinations: this.#counter.snapshot(),
    };
  }

  /**
   * Drains and stops: the source takes no more messages, queued and
   * in-flight messages get until the deadline to finish, what is left is
   * cancelled and given back or recorded as dead letters, then every
   * destination and the dead-letter sink are closed, in that order.
   *
   * @param options The deadline.
   * @returns The receipt. A second call returns the same promise.
   */
  stop(options: StopOptions = {}): Promise<ShutdownReceipt> {
    const { timeoutMs = this.#drainTimeoutMs } = options;
    this.#stopping ??= this.#shutdown(timeoutMs);
    return this.#stopping;
  }

  /** Stops with the default deadline. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop().then(() => {});
  }

  async #shutdown(timeoutMs: number): Promise<ShutdownReceipt> {
    const start = performance.now();
    await this.#source.close();

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([
      this.#loop.then(() => this.#fanOut.idle()).then(() => true),
      deadline,
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.#cancel.abort(
        new Error(`Shutdown deadline of ${timeoutMs} ms passed`),
      );
      await this.#loop;
      await this.#fanOut.idle();
    }

    const closeErrors: string[] = [];
    for (const target of [this.#fanOut, this.#deadLetters]) {
      try {
        await target.close();
      } catch (error) {
        closeErrors.push(describeError(error));
        logger.error("Cannot close {target}: {error}", {
          target: target === this.#fanOut ? "destinations" : "dead letters",
          error,
        });
      }
    }

    const receipt: ShutdownReceipt = {
      ...this.#counts,
      unrecorded: this.#unrecorded,
      timedOut: !drained,
      destinations: this.#counter.snapshot(),
      closeErrors,
      durationMs: performance.now() - start,
    };
    this.#counter[Symbol.dispose]();
    this.#resolveClosed(receipt);
    return receipt;
  }

  async #run(): Promise<void> {
    const running = new Set<Promise<void>>();
    for (;;) {
      if (running.size >= this.#concurrency) await Promise.race(running);
      let delivery: Delivery | undefined;
      try {
        delivery = await this.#source.receive();
      } catch (error) {
        logger.error("Cannot receive from the source: {error}", { error });
        break;
      }
      if (!delivery) break;
      this.#counts.received++;
      this.#inFlight++;
      const task = this.#handle(delivery).finally(() => {
        this.#inFlight--;
        running.delete(task);
      });
      running.add(task);
    }
    await Promise.all(running);
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    let report: DeliveryReport;
    try {
      report = await this.#fanOut.deliver(message, {
        signal: this.#cancel.signal,
        waitFor: "required",
      });
    } catch (error) {
      report = {
        messageId: message.id,
        ok: false,
        results: [{
          destination: "consumer",
          required: true,
          ok: false,
          attempts: 0,
          startedAt: performance.now(),
          durationMs: 0,
          error,
        }],
        pending: [],
        durationMs: 0,
      };
    }

    const failures = failuresOf(report);
    if (failures.length === 0) {
      this.#counts.delivered++;
      await this.#settle(delivery, "ack");
    } else if (
      this.#cancel.signal.aborted &&
      await this.#settle(delivery, "nack", this.#cancel.signal.reason)
    ) {
      this.#counts.returned++;
    } else {
      const letter = deadLetterOf(message, failures);
      if (await this.#record(letter)) {
        this.#counts.deadLettered++;
        await this.#settle(delivery, "ack");
      } else {
        this.#unrecorded++;
        await this.#settle(delivery, "nack", "dead-letter sink failed");
      }
    }

    try {
      this.#onSettled?.(message, report);
    } catch (error) {
      logger.error("The onSettled callback threw for message {id}: {error}", {
        id: message.id,
        error,
      });
    }
  }

  async #record(letter: DeadLetter): Promise<boolean> {
    const { id } = letter.message;
    logger.warn("Dead-lettering message {id}: {reasons}", {
      id,
      reasons: letter.reasons,
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await this.#deadLetters.write(letter);
        return true;
      } catch (error) {
        logger.error(
          "Cannot record dead letter for message {id} (attempt {attempt} of 3): {error}",
          { id, attempt, error },
        );
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    logger.fatal("Message {id} is recorded only here: {letter}", {
      id,
      letter,
    });
    return false;
  }

  async #settle(
    delivery: Delivery,
    how: "ack" | "nack",
    reason?: unknown,
  ): Promise<boolean> {
    try {
      if (how === "ack") {
        await delivery.ack();
        return true;
      }
      return await delivery.nack(reason);
    } catch (error) {
      logger.error("Cannot {how} message {id}: {error}", {
        how,
        id: delivery.message.id,
        error,
      });
      return false;
    }
  }
}
