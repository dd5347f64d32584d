import { isAbsolute, resolve } from "node:path";
import { getLogger } from "@logtape/logtape";
import {
  type BatchResult,
  ClosedError,
  isPermanentError,
  type Message,
  type PluginLogger,
  type Publisher,
  type PublishOptions,
} from "@fanout/core";
import { formatLine, type LineFormat } from "./format.ts";
import { LineBuffer, type LineSink } from "./line_buffer.ts";
import {
  type LogPublisherOptions,
  type ResolvedLogOptions,
  resolveLogOptions,
} from "./options.ts";
import { parseRedactPath } from "./redact.ts";
import { FileSink, stdioSink, streamSink } from "./sinks.ts";

/**
 * What {@linkcode createLogPublisher} needs besides its options. The plugin
 * loader fills these in from its own context.
 *
 * @since 0.1.0
 */
export interface LogPublisherContext {
  /**
   * The directory a relative `path` is resolved against.
   *
   * @default {Deno.cwd()}
   */
  baseDir?: string;
  /**
   * Write here instead of the `target`. The publisher holds the stream's
   * lock until it is closed, then releases it and leaves the stream open.
   */
  writer?: WritableStream<Uint8Array>;
  /**
   * The destination's name, printed on each line.
   *
   * @default {"log"}
   */
  destination?: string;
  /**
   * Where the publisher reports its own trouble, such as a failed write.
   *
   * @default {getLogger(["fanout", "publishers", "log"])}
   */
  logger?: PluginLogger;
}

/**
 * A publisher that writes one line per message.
 *
 * @since 0.1.0
 */
export interface LogPublisher extends Publisher {
  /**
   * Formats the message and hands its line to the writer. Resolves as soon
   * as the line is in the buffer; waits only while the buffer is full.
   *
   * @param message The message.
   * @param options The signal, which cancels the wait for room; a line
   * already accepted is still written.
   * @returns Resolves once the line is accepted.
   */
  publish(message: Message, options?: PublishOptions): Promise<void>;
  /**
   * Writes one line per message, in order.
   *
   * @param messages The messages.
   * @param options The signal, which cancels the wait for room.
   * @returns The messages that were refused, if any.
   */
  publishBatch(
    messages: readonly Message[],
    options?: PublishOptions,
  ): Promise<BatchResult | void>;
  /**
   * Writes every accepted line, then closes the file. A second call
   * returns the first call's promise.
   *
   * @returns Resolves once everything is written.
   */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Bytes of lines accepted and not yet written. */
  readonly bufferedBytes: number;
}

/**
 * Makes a log publisher without the plugin loader.
 *
 * @example Write JSON lines to a stream
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { createLogPublisher } from "@fanout/publishers-log";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const writer = new WritableStream<Uint8Array>({
 *   write: (chunk) => void chunks.push(chunk),
 * });
 * const log = await createLogPublisher({ format: "json" }, { writer });
 * await log.publish(createMessage({ id: "m1", type: "push", body: { n: 1 } }));
 * await log.close();
 *
 * const line = JSON.parse(new TextDecoder().decode(chunks[0]));
 * assert.equal(line.id, "m1");
 * ```
 *
 * @param options The options; see {@linkcode LogPublisherOptions}.
 * @param context The base directory, an optional stream to write to, the
 * destination's name and a logger.
 * @returns The publisher, with its file open when the target is a file.
 * @throws {TypeError} If an option is unknown or has the wrong type.
 * @throws {RangeError} If a size is out of range.
 * @throws {Error} If the log file or its directory cannot be opened.
 * @since 0.1.0
 */
export async function createLogPublisher(
  options: LogPublisherOptions = {},
  context: LogPublisherContext = {},
): Promise<LogPublisher> {
  const {
    baseDir = Deno.cwd(),
    writer,
    destination = "log",
    logger = getLogger(["fanout", "publishers", "log"]),
  } = context;
  const resolved = resolveLogOptions(options);

  const sink = await openSink(resolved, baseDir, writer);
  const line: LineFormat = {
    format: resolved.format,
    destination,
    redact: resolved.redact.map(parseRedactPath),
    maxLineBytes: resolved.maxLineBytes,
  };
  return new LineLogPublisher(sink, line, resolved.bufferBytes, logger);
}

function openSink(
  options: ResolvedLogOptions,
  baseDir: string,
  writer: WritableStream<Uint8Array> | undefined,
): LineSink | Promise<LineSink> {
  if (writer) return streamSink(writer);
  if (options.target !== "file") return stdioSink(options.target);

  const path = options.path as string;
  return FileSink.open({
    path: isAbsolute(path) ? path : resolve(baseDir, path),
    maxFileBytes: options.maxFileBytes,
    maxFiles: options.maxFiles,
  });
}

class LineLogPublisher implements LogPublisher {
  #line: LineFormat;
  #buffer: LineBuffer;
  #closing: Promise<void> | undefined;

  constructor(
    sink: LineSink,
    line: LineFormat,
    bufferBytes: number,
    logger: PluginLogger,
  ) {
    this.#line = line;
    this.#buffer = new LineBuffer(sink, bufferBytes, (error, lostLines) => {
      logger.error(
        "Cannot write {lostLines} log lines of destination {destination}",
        { lostLines, destination: line.destination, error },
      );
    });
  }

  get bufferedBytes(): number {
    return this.#buffer.pendingBytes;
  }

  async publish(message: Message, options: PublishOptions = {}) {
    const { signal } = options;
    signal?.throwIfAborted();
    this.#checkOpen(message.id);

    const line = formatLine(message, this.#line, Date.now());
    try {
      await this.#buffer.push(line, signal);
    } catch (error) {
      throw this.#explain(error, message.id);
    }
  }

  async publishBatch(
    messages: readonly Message[],
    options: PublishOptions = {},
  ): Promise<BatchResult | void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const first = messages[0];
    if (first === undefined) return;
    this.#checkOpen(first.id);

    const failures = new Map<string, unknown>();
    const lines: [Message, Uint8Array][] = [];
    const now = Date.now();
    for (const message of messages) {
      try {
        lines.push([message, formatLine(message, this.#line, now)]);
      } catch (error) {
        if (!isPermanentError(error)) throw error;
        failures.set(message.id, error);
      }
    }

    let accepted = 0;
    for (const [message, line] of lines) {
      try {
        await this.#buffer.push(line, signal);
        accepted++;
      } catch (error) {
        const reason = this.#explain(error, message.id);
        if (accepted === 0 && failures.size === 0) throw reason;
        for (const [rest] of lines.slice(accepted)) {
          failures.set(rest.id, reason);
        }
        break;
      }
    }
    return failures.size > 0 ? { failures } : undefined;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    await this.#buffer.drain();
    await this.#buffer.closeSink();
    const failure = this.#buffer.failure;
    if (failure) {
      throw new Error(
        `Cannot close log destination "${this.#line.destination}": a write failed and its lines were lost`,
        { cause: failure.error },
      );
    }
  }

  #checkOpen(messageId: string): void {
    if (this.#closing) {
      throw new ClosedError(
        `Cannot publish message "${messageId}": log destination "${this.#line.destination}" is closed`,
      );
    }
    const failure = this.#buffer.failure;
    if (failure) throw this.#explain(failure.error, messageId);
  }

  #explain(error: unknown, messageId: string): unknown {
    const failure = this.#buffer.failure;
    if (!failure || failure.error !== error) return error;
    return new Error(
      `Cannot publish message "${messageId}": log destination "${this.#line.destination}" cannot write`,
      { cause: error },
    );
  }
}
