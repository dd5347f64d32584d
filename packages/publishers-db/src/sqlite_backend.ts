import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Backend, field, quoteTable } from "./_backend.ts";
import type { MessageRow } from "./rows.ts";

// Primary result codes that mean the row itself was refused.
const SQLITE_TOOBIG = 18;
const SQLITE_CONSTRAINT = 19;
const SQLITE_MISMATCH = 20;
const SQLITE_RANGE = 25;
const SQLITE_ERROR = 1;

/**
 * Opens (or creates) a SQLite database in WAL mode and its table.
 *
 * @param path The path after `sqlite:`, or `:memory:`.
 * @param baseDir The directory a relative path is resolved against.
 * @param table The validated table name.
 * @returns The backend, with the table in place.
 */
export function openSqlite(
  path: string,
  baseDir: string,
  table: string,
): Backend & { readonly file: string } {
  const file = path === ":memory:" ? path : resolve(baseDir, path);
  let db: DatabaseSync | undefined;
  try {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec(createTableSql(table));
  } catch (error) {
    if (db?.isOpen) db.close();
    throw new Error(
      `Cannot open SQLite database "${file}": ${
        String(field(error, "message") ?? error)
      }`,
      { cause: error },
    );
  }
  return new SqliteBackend(db, table, file);
}

function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table, '"')} (
    id TEXT PRIMARY KEY NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    produced_at TEXT NOT NULL,
    stored_at TEXT NOT NULL
  )`;
}

class SqliteBackend implements Backend {
  readonly file: string;
  #db: DatabaseSync;
  #table: string;
  #insert: StatementSync | undefined;

  constructor(db: DatabaseSync, table: string, file: string) {
    this.#db = db;
    this.#table = table;
    this.file = file;
  }

  ensureTable(): Promise<void> {
    this.#db.exec(createTableSql(this.#table));
    this.#insert = undefined;
    return Promise.resolve();
  }

  insert(rows: readonly MessageRow[], signal?: AbortSignal): Promise<void> {
    // TODO: node:sqlite is synchronous, so a started write cannot be aborted
    // and a large batch holds the event loop until it is committed.
    signal?.throwIfAborted();
    const statement = this.#insert ??= this.#db.prepare(
      `INSERT INTO ${quoteTable(this.#table, '"')}
        (id, type, body, headers, produced_at, stored_at)
       VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       ON CONFLICT (id) DO NOTHING`,
    );
    const write = (row: MessageRow) =>
      statement.run(row.id, row.type, row.body, row.headers, row.producedAt);

    if (rows.length === 1) {
      write(rows[0] as MessageRow);
      return Promise.resolve();
    }
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const row of rows) write(row);
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    return Promise.resolve();
  }

  isDataError(error: unknown): boolean {
    const code = field(error, "errcode");
    if (typeof code !== "number") return false;
    const primary = code & 0xff;
    return primary === SQLITE_TOOBIG || primary === SQLITE_CONSTRAINT ||
      primary === SQLITE_MISMATCH || primary === SQLITE_RANGE;
  }

  isMissingTable(error: unknown): boolean {
    const code = field(error, "errcode");
    return typeof code === "number" && (code & 0xff) === SQLITE_ERROR &&
      /no such table/i.test(String(field(error, "message")));
  }

  describe(error: unknown): string {
    const message = String(field(error, "message") ?? error);
    const code = field(error, "errstr");
    return typeof code === "string" ? `${message} (${code})` : message;
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
