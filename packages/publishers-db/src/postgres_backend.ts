import postgres from "postgres";
import {
  abortable,
  type Backend,
  chunkRows,
  field,
  quoteTable,
} from "./_backend.ts";
import type { MessageRow } from "./rows.ts";

/** Settings of a PostgreSQL connection pool. */
export interface PostgresSettings {
  /** The `postgres://` URL. */
  readonly url: string;
  /** The validated table name. */
  readonly table: string;
  /** The most connections at once. */
  readonly poolSize: number;
  /** How long a connection may take to open. */
  readonly connectTimeoutMs: number;
  /** Shown in `pg_stat_activity`. */
  readonly applicationName: string;
}

// SQLSTATE classes that mean the values were refused: data exception,
// integrity constraint violation, program limit exceeded (such as nesting
// too deep for jsonb).
const DATA_CLASSES = new Set(["22", "23", "54"]);

/** Seconds a cancelled statement may take to end before its connection is dropped. */
const CANCEL_TIMEOUT_S = 2;

/** Seconds `close()` lets running statements finish before dropping them. */
const END_TIMEOUT_S = 5;

/**
 * Makes a PostgreSQL backend. No connection opens until the first write.
 *
 * @param settings The pool settings.
 * @returns The backend.
 */
export function openPostgres(settings: PostgresSettings): Backend {
  return new PostgresBackend(settings);
}

class PostgresBackend implements Backend {
  #sql: postgres.Sql;
  #table: string;

  constructor(settings: PostgresSettings) {
    this.#table = quoteTable(settings.table, '"');
    // postgres 4 or later is required: 3.4 crashed the process when a
    // backend died inside a transaction (it wrote the ROLLBACK to a closed
    // socket from a timer) and could leave a pooled connection hanging, or
    // failing with the dead backend's error, after its backend was killed.
    this.#sql = postgres(settings.url, {
      max: settings.poolSize,
      connect_timeout: Math.max(1, Math.ceil(settings.connectTimeoutMs / 1000)),
      idle_timeout: 60,
      // A statement cancelled because its signal aborted must end within
      // this many seconds, or its connection is closed rather than reused.
      cancel_timeout: CANCEL_TIMEOUT_S,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: settings.applicationName },
    });
  }

  async ensureTable(signal?: AbortSignal): Promise<void> {
    const query = this.#sql.unsafe(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id text PRIMARY KEY,
      type text NOT NULL,
      body jsonb NOT NULL,
      headers jsonb NOT NULL,
      produced_at timestamptz NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now()
    )`);
    await abortable(query.execute(), signal, () => query.cancel());
  }

  async insert(
    rows: readonly MessageRow[],
    signal?: AbortSignal,
  ): Promise<void> {
    const chunks = chunkRows(rows);
    if (chunks.length === 1) {
      const query = this.#statement(this.#sql, chunks[0] as MessageRow[]);
      await abortable(query.execute(), signal, () => query.cancel());
      return;
    }

    let current: postgres.PendingQuery<postgres.Row[]> | undefined;
    const work = this.#sql.begin(async (tx) => {
      for (const chunk of chunks) {
        signal?.throwIfAborted();
        current = this.#statement(tx, chunk);
        await current;
      }
    });
    await abortable(work, signal, () => current?.cancel());
  }

  #statement(
    sql: postgres.Sql | postgres.TransactionSql,
    rows: readonly MessageRow[],
  ): postgres.PendingQuery<postgres.Row[]> {
    const values: string[] = [];
    const tuples = rows.map((row) => {
      const n = values.length;
      values.push(row.id, row.type, row.body, row.headers, row.producedAt);
      // Declared text first: a parameter typed jsonb would be serialised by
      // the driver a second time.
      return `($${n + 1}::text, $${n + 2}::text, $${n + 3}::text::jsonb, $${
        n + 4
      }::text::jsonb, $${n + 5}::text::timestamptz, now())`;
    });
    return sql.unsafe(
      `INSERT INTO ${this.#table}
        (id, type, body, headers, produced_at, stored_at)
       VALUES ${tuples.join(", ")}
       ON CONFLICT (id) DO NOTHING`,
      values,
    );
  }

  isDataError(error: unknown): boolean {
    const code = field(error, "code");
    return field(error, "name") === "PostgresError" &&
      typeof code === "string" && DATA_CLASSES.has(code.slice(0, 2));
  }

  isMissingTable(error: unknown): boolean {
    return field(error, "code") === "42P01";
  }

  describe(error: unknown): string {
    const message = String(field(error, "message") ?? error);
    const detail = field(error, "detail");
    const code = field(error, "code");
    const parts = [message];
    if (typeof detail === "string" && detail) parts.push(`(${detail})`);
    if (typeof code === "string") parts.push(`[${code}]`);
    return parts.join(" ");
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: END_TIMEOUT_S });
  }
}
