// Shared by the tests: a unique table on each real database, read back
// through a connection of its own, and dropped afterwards.
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { serviceTest } from "@fanout/core/testing";
import type { PluginLogger } from "@fanout/core";
import { createDbPublisher, type DbPublisher } from "./db_publisher.ts";
import type { DbPublisherOptions } from "./options.ts";

/** A row as read back, in the same shape from every database. */
export interface StoredRow {
  id: string;
  type: string;
  /** The body's JSON text as the database returns it. */
  body: string;
  headers: string;
  /** ISO 8601 UTC with milliseconds. */
  producedAt: string;
}

/** One table on one database, with a way to read and drop it. */
export interface TableHarness extends AsyncDisposable {
  readonly url: string;
  readonly table: string;
  /** Opens a publisher on this table. */
  publisher(
    extra?: DbPublisherOptions,
    logger?: PluginLogger,
  ): Promise<DbPublisher>;
  /** Every row, sorted by id. */
  rows(): Promise<StoredRow[]>;
  /** How many rows there are. */
  count(): Promise<number>;
}

/** A database the tests run against. */
export interface Database {
  readonly name: "SQLite" | "PostgreSQL" | "MariaDB";
  readonly ignore: boolean;
  open(): Promise<TableHarness>;
}

export const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
export const MARIADB_URL = "mysql://root@127.0.0.1:3306/test";
export const DESTINATION = "db-under-test";

const postgresCheck = await serviceTest("PostgreSQL", 5432);
const mariadbCheck = await serviceTest("MariaDB", 3306);

export function uniqueTable(): string {
  return `fanout_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

function byId(a: StoredRow, b: StoredRow): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export const sqlite: Database = {
  name: "SQLite",
  ignore: false,
  async open() {
    const dir = await Deno.makeTempDir({ prefix: "fanout_db_test_" });
    const table = uniqueTable();
    const url = "sqlite:./nested/fanout.db";
    const file = join(dir, "nested", "fanout.db");
    let reader: DatabaseSync | undefined;
    const read = () => reader ??= new DatabaseSync(file);
    return {
      url,
      table,
      publisher: (extra = {}, logger) =>
        createDbPublisher({ url, table, ...extra }, {
          baseDir: dir,
          destination: DESTINATION,
          ...(logger ? { logger } : {}),
        }),
      rows() {
        const rows = read().prepare(
          `SELECT id, type, body, headers, produced_at FROM "${table}"`,
        ).all() as unknown as Record<string, string>[];
        return Promise.resolve(
          rows.map((row) => ({
            id: String(row.id),
            type: String(row.type),
            body: String(row.body),
            headers: String(row.headers),
            producedAt: String(row.produced_at),
          })).sort(byId),
        );
      },
      count() {
        const row = read().prepare(`SELECT count(*) AS n FROM "${table}"`)
          .get() as { n: number };
        return Promise.resolve(Number(row.n));
      },
      async [Symbol.asyncDispose]() {
        reader?.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
};

export const postgresql: Database = {
  name: "PostgreSQL",
  ignore: postgresCheck.ignore,
  open() {
    const table = uniqueTable();
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    return Promise.resolve({
      url: PG_URL,
      table,
      publisher: (extra = {}, logger) =>
        createDbPublisher({
          url: PG_URL,
          table,
          applicationName: `fanout-test-${table}`,
          ...extra,
        }, { destination: DESTINATION, ...(logger ? { logger } : {}) }),
      async rows() {
        const rows = await sql.unsafe(
          `SELECT id, type, body::text AS body, headers::text AS headers,
             to_char(produced_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS produced_at
           FROM "${table}"`,
        );
        return rows.map((row) => ({
          id: String(row.id),
          type: String(row.type),
          body: String(row.body),
          headers: String(row.headers),
          producedAt: String(row.produced_at),
        })).sort(byId);
      },
      async count() {
        const [row] = await sql.unsafe(
          `SELECT count(*)::int AS n FROM "${table}"`,
        );
        return Number(row?.n);
      },
      async [Symbol.asyncDispose]() {
        await sql.unsafe(`DROP TABLE IF EXISTS "${table}"`);
        await sql.end();
      },
    });
  },
};

export const mariadb: Database = {
  name: "MariaDB",
  ignore: mariadbCheck.ignore,
  open() {
    const table = uniqueTable();
    let connection: mysql.Connection | undefined;
    const connect = async () =>
      connection ??= await mysql.createConnection({
        uri: MARIADB_URL,
        dateStrings: true,
        charset: "UTF8MB4_BIN",
      });
    return Promise.resolve({
      url: MARIADB_URL,
      table,
      publisher: (extra = {}, logger) =>
        createDbPublisher({ url: MARIADB_URL, table, ...extra }, {
          destination: DESTINATION,
          ...(logger ? { logger } : {}),
        }),
      async rows() {
        const [rows] = await (await connect()).query(
          `SELECT id, type, body, headers, produced_at FROM \`${table}\``,
        ) as unknown as [Record<string, string>[]];
        return rows.map((row) => ({
          id: String(row.id),
          type: String(row.type),
          body: String(row.body),
          headers: String(row.headers),
          producedAt: `${String(row.produced_at).replace(" ", "T")}Z`,
        })).sort(byId);
      },
      async count() {
        const [rows] = await (await connect()).query(
          `SELECT count(*) AS n FROM \`${table}\``,
        ) as unknown as [{ n: number }[]];
        return Number(rows[0]?.n);
      },
      async [Symbol.asyncDispose]() {
        const open = await connect();
        await open.query(`DROP TABLE IF EXISTS \`${table}\``);
        await open.end();
      },
    });
  },
};

export const databases: readonly Database[] = [sqlite, postgresql, mariadb];

/** A logger that keeps every line, to check that nothing secret is logged. */
export function recordingLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string, properties?: Record<string, unknown>) => {
    lines.push(`${message} ${JSON.stringify(properties ?? {})}`);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}
