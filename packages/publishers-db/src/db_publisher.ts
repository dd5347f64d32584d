import {
  type BatchResult,
  ClosedError,
  isPermanentError,
  type Message,
  PermanentError,
  type PluginLogger,
  type Publisher,
  type PublishOptions,
} from "@fanout/core";
import { getLogger } from "@logtape/logtape";
import { abortable, type Backend, field, isRowRefused } from "./_backend.ts";
import { openMysql } from "./mysql_backend.ts";
import {
  type DbPublisherOptions,
  type DbTarget,
  parseDbUrl,
  resolveDbOptions,
} from "./options.ts";
import { openPostgres } from "./postgres_backend.ts";
import { type MessageRow, quote, toMessageRow } from "./rows.ts";
import { openSqlite } from "./sqlite_backend.ts";

/** How long `close()` waits for the writes in progress before ending the pool. */
const CLOSE_GRACE_MS = 5000;

/**
 * What {@linkcode createDbPublisher} needs besides the options, normally
 * given by the plugin loader.
 *
 * @since 0.1.0
 */
export interface DbPublisherInit {
  /**
   * The directory a relative SQLite path is resolved against.
   *
   * @default {Deno.cwd()}
   */
  baseDir?: string;
  /**
   * Where to log.
   *
   * @default {getLogger(["fanout", "publishers", "db"])}
   */
  logger?: PluginLogger;
  /**
   * The destination's name, used in error messages.
   *
   * @default {"db"}
   */
  destination?: string;
}

/**
 * A publisher that stores each message as one row, keyed by the message id,
 * in SQLite, PostgreSQL or MariaDB. Made by {@linkcode createDbPublisher}.
 *
 * Writing a message id that is already stored changes nothing, so retries
 * and redeliveries are safe. Errors are either a `PermanentError` (the
 * database refused the data; retrying cannot help) or a plain `Error` (the
 * database could not be reached, the connection was lost or timed out), which
 * the fan-out retries.
 *
 * The `signal` of each call stops waiting at once and rejects with its
 * reason; on PostgreSQL it also cancels the running statement, on MariaDB it
 * drops the connection, and on SQLite, whose writes are synchronous, it is
 * only checked before the write starts. A write that already reached the
 * database may still land; a retry then finds the row and adds nothing.
 *
 * @example Store a message in an in-memory SQLite database
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { createDbPublisher } from "@fanout/publishers-db";
 *
 * await using publisher = await createDbPublisher({ url: "sqlite::memory:" });
 * await publisher.publish(createMessage({ id: "m1", body: { ok: true } }));
 * await publisher.publish(createMessage({ id: "m1", body: { ok: true } }));
 * ```
 *
 * @since 0.1.0
 */
export class DbPublisher implements Publisher {
  /** Which kind of database holds the table. */
  readonly kind: DbTarget["kind"];
  /** The table's name as configured. */
  readonly table: string;
  /** The database URL with its password masked. */
  readonly safeUrl: string;

  #backend: Backend;
  #target: DbTarget;
  #destination: string;
  #maxBodyBytes: number;
  #logger: PluginLogger;
  #ready: Promise<void> | undefined;
  #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  /**
   * Wraps an open backend; use {@linkcode createDbPublisher} instead.
   *
   * @param parts The backend and what the publisher needs to report errors.
   */
  private constructor(parts: {
    backend: Backend;
    target: DbTarget;
    table: string;
    destination: string;
    maxBodyBytes: number;
    logger: PluginLogger;
  }) {
    this.#backend = parts.backend;
    this.#target = parts.target;
    this.#destination = parts.destination;
    this.#maxBodyBytes = parts.maxBodyBytes;
    this.#logger = parts.logger;
    this.kind = parts.target.kind;
    this.table = parts.table;
    this.safeUrl = parts.target.safeUrl;
  }

  /**
   * Opens a publisher; see {@linkcode createDbPublisher}.
   *
   * @param options The options.
   * @param init The base directory, logger and destination name.
   * @returns The publisher.
   * @throws {TypeError} If an option is not valid.
   * @throws {RangeError} If a number is out of range.
   */
  static open(
    options: DbPublisherOptions,
    init: DbPublisherInit,
  ): DbPublisher {
    const resolved = resolveDbOptions(options);
    const {
      baseDir = Deno.cwd(),
      logger = getLogger(["fanout", "publishers", "db"]),
      destination = "db",
    } = init;
    const target = parseDbUrl(resolved.url);
    const settings = {
      url: target.url,
      table: resolved.table,
      poolSize: resolved.poolSize,
      connectTimeoutMs: resolved.connectTimeoutMs,
    };

    let backend: Backend;
    if (target.kind === "sqlite") {
      backend = openSqlite(target.path, baseDir, resolved.table);
    } else if (target.kind === "postgres") {
      backend = openPostgres({
        ...settings,
        applicationName: resolved.applicationName,
      });
    } else {
      backend = openMysql({ ...settings, logger, redact: target.redact });
    }
    logger.debug("Storing messages in table {table} of {url}", {
      table: resolved.table,
      url: target.safeUrl,
    });
    return new DbPublisher({
      backend,
      target,
      table: resolved.table,
      destination,
      maxBodyBytes: resolved.maxBodyBytes,
      logger,
    });
  }

  /**
   * Stores one message, unless a row with its id is already there.
   *
   * @param message The message.
   * @param options The abort signal.
   * @returns Resolves once the row is stored.
   * @throws {PermanentError} If the message or its body is refused: too
   * large, not serialisable, or refused by the database. The message names
   * the id and the destination.
   * @throws {ClosedError} If the publisher is closed.
   * @throws {Error} If the database cannot be reached or the connection is
   * lost; retrying is safe.
   */
  async publish(message: Message, options: PublishOptions = {}): Promise<void> {
    const { signal } = options;
    this.#assertOpen(`message ${quote(message.id)}`);
    signal?.throwIfAborted();
    const row = this.#toRow(message);
    await this.#track(this.#write([row], signal));
  }

  /**
   * Stores several messages in one statement, or one transaction when they
   * are many or large. A message the database refuses on its own is listed
   * in the result's failures while the others land.
   *
   * @param messages The messages.
   * @param options The abort signal.
   * @returns The messages refused for good, each with a `PermanentError`.
   * @throws {ClosedError} If the publisher is closed.
   * @throws {Error} If the database cannot be reached or the connection is
   * lost; retrying the whole batch is safe.
   */
  async publishBatch(
    messages: readonly Message[],
    options: PublishOptions = {},
  ): Promise<BatchResult> {
    const { signal } = options;
    this.#assertOpen(`${messages.length} messages`);
    signal?.throwIfAborted();

    const failures = new Map<string, unknown>();
    const rows: MessageRow[] = [];
    const seen = new Set<string>();
    for (const message of messages) {
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      try {
        rows.push(this.#toRow(message));
      } catch (error) {
        failures.set(message.id, error);
      }
    }
    if (rows.length > 0) {
      await this.#track(this.#writeBatch(rows, failures, signal));
    }
    return { failures };
  }

  /**
   * Waits for the writes in progress (at most 5 seconds), then ends the
   * connection pool or closes the SQLite database; PostgreSQL statements
   * still running after 5 more seconds are dropped with their connections.
   * A second call does nothing more.
   *
   * @returns Resolves once everything is released.
   * @throws {Error} If the driver fails to close.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // A write stuck without a signal must not hold the close forever: after
      // the grace period the pool is ended, which stops it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      try {
        await Promise.race([Promise.allSettled(this.#inFlight), grace]);
      } finally {
        clearTimeout(timer);
      }
      await this.#backend.close();
    })();
    return this.#closing;
  }

  /**
   * Same as {@linkcode DbPublisher.close}.
   *
   * @returns Resolves once everything is released.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(what: string): void {
    if (this.#closing) {
      throw new ClosedError(
        `Cannot store ${what} in "${this.#destination}": the publisher is closed`,
      );
    }
  }

  #toRow(message: Message): MessageRow {
    return toMessageRow(message, {
      destination: this.#destination,
      maxBodyBytes: this.#maxBodyBytes,
    });
  }

  async #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(work);
    }
  }

  async #ensureTable(signal: AbortSignal | undefined): Promise<void> {
    this.#ready ??= this.#backend.ensureTable().catch((error) => {
      this.#ready = undefined;
      throw error;
    });
    await abortable(this.#ready, signal);
  }

  async #write(
    rows: readonly MessageRow[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await this.#ensureTable(signal);
      await this.#backend.insert(rows, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#explain(rows, error);
    }
  }

  async #writeBatch(
    rows: readonly MessageRow[],
    failures: Map<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let refused: Error;
    try {
      await this.#write(rows, signal);
      return;
    } catch (error) {
      if (!isPermanentError(error)) throw error;
      refused = error;
    }
    if (rows.length === 1) {
      failures.set((rows[0] as MessageRow).id, refused);
      return;
    }

    this.#logger.warn(
      "The database refused a batch of {count} messages; writing them one by one to find the refused ones: {error}",
      { count: rows.length, error: refused.message },
    );
    for (const row of rows) {
      try {
        await this.#write([row], signal);
      } catch (error) {
        if (!isPermanentError(error)) throw error;
        failures.set(row.id, error);
      }
    }
  }

  /** Turns a driver error into a permanent or retryable error, password hidden. */
  #explain(rows: readonly MessageRow[], error: unknown): Error {
    if (this.#backend.isMissingTable(error)) this.#ready = undefined;
    const { redact, safeUrl } = this.#target;
    const detail = redact(this.#backend.describe(error)).replaceAll("\n", " ");
    const what = rows.length === 1
      ? `message ${quote(rows[0]?.id)}`
      : `${rows.length} messages`;
    const cause = safeCause(error, redact);

    if (isRowRefused(error) || this.#backend.isDataError(error)) {
      return new PermanentError(
        `Cannot store ${what} in "${this.#destination}": ${detail}`,
        { cause },
      );
    }
    this.#logger.debug("Cannot write to {url}, will be retried: {error}", {
      url: safeUrl,
      error: detail,
    });
    return new Error(
      `Cannot store ${what} in "${this.#destination}" at ${safeUrl}: ${detail}`,
      { cause },
    );
  }
}

/** Keeps the driver's error as the cause, unless it shows the password. */
function safeCause(error: unknown, redact: (text: string) => string): unknown {
  const message = field(error, "message");
  if (typeof message !== "string" || redact(message) === message) return error;
  const copy = new Error(redact(message));
  copy.name = String(field(error, "name") ?? "Error");
  return copy;
}

/**
 * Opens a database publisher without the plugin loader: checks the options,
 * opens the SQLite file (creating its directory and table) or prepares the
 * PostgreSQL or MariaDB pool, which connects and creates the table on the
 * first write.
 *
 * @example Write a batch to SQLite
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { createDbPublisher } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * await using publisher = await createDbPublisher({ url: "sqlite::memory:" });
 * const result = await publisher.publishBatch([
 *   createMessage({ id: "a", body: 1 }),
 *   createMessage({ id: "b", body: [2] }),
 * ]);
 * assert.equal(result.failures.size, 0);
 * ```
 *
 * @param options The options, as in the configuration.
 * @param init The base directory for a relative SQLite path, the logger and
 * the destination's name.
 * @returns The publisher.
 * @throws {TypeError} If an option is unknown or not valid, such as a table
 * name that is not an SQL identifier.
 * @throws {RangeError} If a number is out of range.
 * @throws {Error} If the SQLite database cannot be opened or its table
 * cannot be created.
 * @since 0.1.0
 */
export function createDbPublisher(
  options: DbPublisherOptions = {},
  init: DbPublisherInit = {},
): Promise<DbPublisher> {
  try {
    return Promise.resolve(DbPublisher.open(options, init));
  } catch (error) {
    return Promise.reject(error);
  }
}
