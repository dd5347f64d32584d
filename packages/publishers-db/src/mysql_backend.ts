import mysql from "mysql2/promise";
import type { PluginLogger } from "@fanout/core";
import {
  abortable,
  type Backend,
  chunkRows,
  field,
  MAX_BYTES_PER_STATEMENT,
  quoteTable,
  RowRefusedError,
} from "./_backend.ts";
import type { MessageRow } from "./rows.ts";

/** Settings of a MariaDB or MySQL connection pool. */
export interface MysqlSettings {
  /** The `mysql://` or `mariadb://` URL. */
  readonly url: string;
  /** The validated table name. */
  readonly table: string;
  /** The most connections at once. */
  readonly poolSize: number;
  /** How long a connection may take to open. */
  readonly connectTimeoutMs: number;
  /** Where to report a connection that could not be set up. */
  readonly logger: PluginLogger;
  /** Hides the password in what is logged. */
  readonly redact: (text: string) => string;
}

// Server error numbers that mean the values were refused: bad null, out of
// range, truncated, wrong value, bad string, data too long, invalid JSON,
// check constraint failed, row too large, packet too large.
const DATA_ERRNOS = new Set([
  1048,
  1264,
  1265,
  1292,
  1300,
  1366,
  1406,
  3140,
  4025,
  1118,
  1153,
  1301,
]);

// Strict mode makes the server refuse a value it would otherwise truncate.
const SESSION_SQL_MODE =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'";

/**
 * Makes a MariaDB or MySQL backend. No connection opens until the first
 * write.
 *
 * @param settings The pool settings.
 * @returns The backend.
 */
export function openMysql(settings: MysqlSettings): Backend {
  return new MysqlBackend(settings);
}

class MysqlBackend implements Backend {
  #pool: mysql.Pool;
  #table: string;
  #maxBytes = MAX_BYTES_PER_STATEMENT;
  #maxPacket = Infinity;

  constructor(settings: MysqlSettings) {
    const { logger, redact } = settings;
    this.#table = quoteTable(settings.table, "`");
    this.#pool = mysql.createPool({
      uri: settings.url.replace(/^mariadb:/, "mysql:"),
      connectionLimit: settings.poolSize,
      connectTimeout: settings.connectTimeoutMs,
      charset: "UTF8MB4_BIN",
      timezone: "Z",
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      maxPreparedStatements: 64,
      enableKeepAlive: true,
      multipleStatements: false,
    });
    // The pool hands its own callback-style connection to this event.
    this.#pool.on("connection", (connection: unknown) => {
      (connection as CallbackConnection).query(SESSION_SQL_MODE, (error) => {
        if (error) {
          logger.warn("Cannot turn on strict mode: {error}", {
            error: redact(String(field(error, "message") ?? error)),
          });
        }
      });
    });
  }

  async ensureTable(signal?: AbortSignal): Promise<void> {
    await this.#withConnection(signal, async (connection) => {
      const [info] = await connection.query(
        "SELECT VERSION() AS version, @@max_allowed_packet AS packet",
      ) as unknown as [{ version: string; packet: string | number }[]];
      const version = String(info[0]?.version ?? "");
      const packet = Number(info[0]?.packet ?? 0);
      if (packet > 0) {
        this.#maxPacket = packet;
        this.#maxBytes = Math.min(MAX_BYTES_PER_STATEMENT, packet / 2);
      }
      // No-pad binary collation: ids "a" and "a " or "A" stay distinct.
      const collation = /mariadb/i.test(version)
        ? "utf8mb4_nopad_bin"
        : "utf8mb4_0900_bin";
      // LONGTEXT, not JSON: MariaDB's JSON_VALID check refuses documents
      // nested deeper than 32 levels, and the text is always JSON.stringify's.
      await connection.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (
        id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL,
        type VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        headers LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        produced_at DATETIME(3) NOT NULL,
        stored_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`);
    });
  }

  async insert(
    rows: readonly MessageRow[],
    signal?: AbortSignal,
  ): Promise<void> {
    // The server hangs up on a packet over max_allowed_packet instead of
    // answering with an error, so such a row is refused before it is sent.
    const tooLarge = rows.find((row) => row.bytes > this.#maxPacket - 1024);
    if (tooLarge) {
      throw new RowRefusedError(
        `the row is about ${tooLarge.bytes} bytes, more than the server's max_allowed_packet of ${this.#maxPacket} bytes`,
      );
    }
    const chunks = chunkRows(rows, this.#maxBytes);
    await this.#withConnection(signal, async (connection) => {
      if (chunks.length === 1) {
        await this.#execute(connection, chunks[0] as MessageRow[]);
        return;
      }
      await connection.beginTransaction();
      try {
        for (const chunk of chunks) {
          signal?.throwIfAborted();
          await this.#execute(connection, chunk);
        }
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => {
          // The connection is gone; the server rolled back on its own.
        });
        throw error;
      }
    });
  }

  async #execute(
    connection: mysql.PoolConnection,
    rows: readonly MessageRow[],
  ): Promise<void> {
    const values: string[] = [];
    const tuples = rows.map((row) => {
      values.push(row.id, row.type, row.body, row.headers, mysqlTime(row));
      return "(?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
    });
    await connection.execute(
      `INSERT INTO ${this.#table}
        (id, type, body, headers, produced_at, stored_at)
       VALUES ${tuples.join(", ")}
       ON DUPLICATE KEY UPDATE id = id`,
      values,
    );
  }

  async #withConnection(
    signal: AbortSignal | undefined,
    work: (connection: mysql.PoolConnection) => Promise<void>,
  ): Promise<void> {
    signal?.throwIfAborted();
    const connection = await abortable(this.#pool.getConnection(), signal);
    let destroyed = false;
    try {
      await abortable(work(connection), signal, () => {
        destroyed = true;
        connection.destroy();
      });
    } catch (error) {
      // After some errors, such as a packet over max_allowed_packet, the
      // server hangs up; a fresh connection is cheaper than a doubtful one.
      if (!destroyed) {
        destroyed = true;
        connection.destroy();
      }
      throw error;
    } finally {
      if (!destroyed) connection.release();
    }
  }

  isDataError(error: unknown): boolean {
    const errno = field(error, "errno");
    return typeof field(error, "sqlState") === "string" &&
      typeof errno === "number" && DATA_ERRNOS.has(errno);
  }

  isMissingTable(error: unknown): boolean {
    return field(error, "errno") === 1146;
  }

  describe(error: unknown): string {
    const message = String(field(error, "message") ?? error);
    const code = field(error, "code");
    return typeof code === "string" ? `${message} [${code}]` : message;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

interface CallbackConnection {
  query(sql: string, callback: (error: unknown) => void): void;
}

/** MariaDB's DATETIME literal form of the production time, in UTC. */
function mysqlTime(row: MessageRow): string {
  return row.producedAt.replace("T", " ").replace("Z", "");
}
