import { dirname } from "node:path";
import { describeError } from "./errors.ts";
import type { Message } from "./message.ts";

/**
 * Why one destination did not take a dead-lettered message.
 *
 * @since 0.1.0
 */
export interface DeadLetterReason {
  /** The destination, or `consumer` for a message never started. */
  readonly destination: string;
  /** The error, on one line. */
  readonly error: string;
  /** How many attempts that destination made. */
  readonly attempts: number;
}

/**
 * A message that could not be delivered, with its reasons. It holds the
 * whole message so that it can be replayed.
 *
 * @since 0.1.0
 */
export interface DeadLetter {
  /** The message. */
  readonly message: Message;
  /** One reason per destination that did not take it. */
  readonly reasons: readonly DeadLetterReason[];
  /** When it was recorded, as an ISO 8601 time. */
  readonly at: string;
}

/**
 * Where dead letters are recorded.
 *
 * @since 0.1.0
 */
export interface DeadLetterSink {
  /**
   * Records a dead letter durably before resolving.
   *
   * @param letter The message and its reasons.
   */
  write(letter: DeadLetter): Promise<void>;
  /** Flushes and releases the sink. */
  close(): Promise<void>;
}

/**
 * Builds a dead letter from the destinations' errors.
 *
 * @example Make a dead letter
 * ```ts
 * import { createMessage, deadLetterOf } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const letter = deadLetterOf(createMessage({ id: "m1", body: {} }), [
 *   { destination: "db", error: new Error("disk full"), attempts: 3 },
 * ]);
 * assert.equal(letter.reasons[0]?.error, "Error: disk full");
 * ```
 *
 * @param message The message.
 * @param failures Each destination with its error and attempts.
 * @returns The dead letter, stamped with the current time.
 * @since 0.1.0
 */
export function deadLetterOf(
  message: Message,
  failures: readonly {
    destination: string;
    error: unknown;
    attempts: number;
  }[],
): DeadLetter {
  return {
    message,
    reasons: failures.map((f) => ({
      destination: f.destination,
      error: describeError(f.error),
      attempts: f.attempts,
    })),
    at: new Date().toISOString(),
  };
}

/**
 * Keeps dead letters in memory, for tests and embedding.
 *
 * @example Collect dead letters
 * ```ts
 * import { createMessage, deadLetterOf, MemoryDeadLetters } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const sink = new MemoryDeadLetters();
 * await sink.write(deadLetterOf(createMessage({ body: {} }), []));
 * assert.equal(sink.letters.length, 1);
 * ```
 *
 * @since 0.1.0
 */
export class MemoryDeadLetters implements DeadLetterSink {
  /** Every dead letter written, oldest first. */
  readonly letters: DeadLetter[] = [];

  /**
   * Keeps a dead letter.
   *
   * @param letter The dead letter.
   * @returns Resolves at once.
   */
  write(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
    return Promise.resolve();
  }

  /**
   * Does nothing; the letters stay readable.
   *
   * @returns Resolves at once.
   */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Appends dead letters to a file, one JSON object a line, creating the
 * file and its directory when missing. Each write is flushed to disk before
 * it resolves.
 *
 * @example Record dead letters in a file
 * ```ts
 * import { createMessage, deadLetterOf, JsonlDeadLetters } from "@fanout/core";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await using sink = new JsonlDeadLetters(path);
 * await sink.write(deadLetterOf(createMessage({ body: {} }), []));
 * await Deno.remove(path);
 * ```
 *
 * @since 0.1.0
 */
export class JsonlDeadLetters implements DeadLetterSink {
  readonly #path: string;
  #file: Promise<Deno.FsFile> | undefined;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Opens nothing yet; the file is opened on the first write.
   *
   * @param path The file.
   */
  constructor(path: string) {
    this.#path = path;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Opens the file now, so that a path that cannot be written is found at
   * start-up rather than at the first dead letter.
   *
   * @returns Resolves once the file is open.
   * @throws {Error} Naming the path, if it cannot be opened for appending.
   */
  async open(): Promise<void> {
    await (this.#file ??= this.#open());
  }

  /**
   * Appends a dead letter and syncs the file.
   *
   * @param letter The dead letter.
   * @returns Resolves once it is on disk.
   * @throws {Error} If the sink is closed or the file cannot be written.
   */
  write(letter: DeadLetter): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new Error(
          `Cannot record dead letter for message "${letter.message.id}": the sink "${this.#path}" is closed`,
        ),
      );
    }
    const line = new TextEncoder().encode(JSON.stringify(letter) + "\n");
    const written = this.#tail.then(async () => {
      const file = await (this.#file ??= this.#open());
      let offset = 0;
      while (offset < line.length) {
        offset += await file.write(line.subarray(offset));
      }
      await file.syncData();
    });
    this.#tail = written.catch(() => {});
    return written;
  }

  /**
   * Waits for pending writes and closes the file. A second call does
   * nothing.
   *
   * @returns Resolves once closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    if (this.#file) (await this.#file).close();
  }

  /** Same as {@linkcode JsonlDeadLetters.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #open(): Promise<Deno.FsFile> {
    try {
      await Deno.mkdir(dirname(this.#path), { recursive: true });
      return await Deno.open(this.#path, {
        append: true,
        create: true,
        write: true,
      });
    } catch (error) {
      // Let a later write try again, in case the cause was passing.
      this.#file = undefined;
      throw new Error(
        `Cannot open dead-letter file "${this.#path}": ${describeError(error)}`,
        { cause: error },
      );
    }
  }
}
