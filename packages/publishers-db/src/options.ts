import { z } from "zod";
import { numericString, type StandardSchemaV1 } from "@fanout/core";

/**
 * The database URL used when none is given: a SQLite file next to the
 * configuration.
 *
 * @since 0.1.0
 */
export const DEFAULT_DB_URL = "sqlite:./data/fanout.db";

/**
 * The table used when none is given.
 *
 * @since 0.1.0
 */
export const DEFAULT_TABLE = "fanout_messages";

/**
 * The largest serialised body accepted when no limit is given: 4 MiB.
 *
 * @since 0.1.0
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Options of the database publisher, as written in the configuration.
 *
 * @since 0.1.0
 */
export interface DbPublisherOptions {
  /**
   * Where to store messages: `sqlite:PATH` (relative to the configuration's
   * directory; `sqlite::memory:` for a private in-memory database),
   * `postgres://` or `postgresql://`, `mysql://` or `mariadb://`. Put the
   * password in through `${VAR}` in the configuration; it is masked in every
   * log line and error message.
   *
   * @default {"sqlite:./data/fanout.db"}
   */
  url?: string;
  /**
   * The table, created when missing: letters, digits and underscores, with
   * at most one dot to name a schema (`events.fanout_messages`).
   *
   * @default {"fanout_messages"}
   */
  table?: string;
  /**
   * The largest serialised body, in bytes of UTF-8 JSON text. A larger body
   * is refused for good.
   *
   * @default {4194304}
   */
  maxBodyBytes?: number;
  /**
   * How many connections PostgreSQL and MariaDB may open at once. Ignored by
   * SQLite.
   *
   * @default {4}
   */
  poolSize?: number;
  /**
   * How long to wait for a network connection to open, in milliseconds.
   * Ignored by SQLite.
   *
   * @default {10000}
   */
  connectTimeoutMs?: number;
  /**
   * The `application_name` PostgreSQL shows for these connections in
   * `pg_stat_activity`. Ignored by the other databases.
   *
   * @default {"fanout"}
   */
  applicationName?: string;
}

/**
 * The options after validation, with every default filled in.
 *
 * @since 0.1.0
 */
export type ResolvedDbOptions = Required<DbPublisherOptions>;

const IDENTIFIER_PART = "[A-Za-z_][A-Za-z0-9_]{0,62}";
const IDENTIFIER = new RegExp(`^${IDENTIFIER_PART}(\\.${IDENTIFIER_PART})?$`);
// Query parameter names that may carry a credential: password, pass, pwd,
// sslpassword, secret, token, key, api_key, auth...
const SECRET_PARAMETER = /pass|pwd|secret|token|key|auth|credential/i;
const NETWORK_SCHEMES = [
  "postgres:",
  "postgresql:",
  "mysql:",
  "mariadb:",
] as const;

/**
 * Tells whether a table name is a plain SQL identifier, optionally preceded
 * by one schema name and a dot.
 *
 * @example Check table names
 * ```ts
 * import { isTableName } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isTableName("events.fanout_messages"));
 * assert.ok(!isTableName("messages; DROP TABLE users"));
 * ```
 *
 * @param name The table name.
 * @returns Whether it is safe to use as is.
 * @since 0.1.0
 */
export function isTableName(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** Explains what is wrong with a URL without repeating it. */
function urlProblem(url: string): string | undefined {
  if (url.startsWith("sqlite:")) {
    return url.length > "sqlite:".length
      ? undefined
      : `url "sqlite:" needs a path, such as "sqlite:./data/fanout.db"`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `url must start with "sqlite:", "postgres://", "postgresql://", "mysql://" or "mariadb://"`;
  }
  if (!(NETWORK_SCHEMES as readonly string[]).includes(parsed.protocol)) {
    return `url must start with "sqlite:", "postgres://", "postgresql://", "mysql://" or "mariadb://"`;
  }
  if (parsed.hostname === "") {
    return `url must name a host, such as "${parsed.protocol}//user@127.0.0.1/db"`;
  }
  return undefined;
}

const optionsSchema = z.strictObject({
  url: z.string().default(DEFAULT_DB_URL).check((ctx) => {
    const problem = urlProblem(ctx.value);
    if (problem) {
      ctx.issues.push({ code: "custom", message: problem, input: "" });
    }
  }),
  table: z.string().default(DEFAULT_TABLE).refine(isTableName, {
    message:
      `table must be an SQL identifier: letters, digits and underscores, starting with a letter or underscore, at most 63 characters, with at most one dot before it to name a schema, such as "fanout_messages" or "events.fanout_messages"`,
  }),
  maxBodyBytes: z.preprocess(
    numericString,
    z.number().int().min(1).max(1024 * 1024 * 1024),
  ).default(
    DEFAULT_MAX_BODY_BYTES,
  ),
  poolSize: z.preprocess(numericString, z.number().int().min(1).max(100))
    .default(4),
  connectTimeoutMs: z.preprocess(
    numericString,
    z.number().int().min(1).max(600_000),
  ).default(10_000),
  applicationName: z.string().min(1).max(63).default("fanout"),
});

/**
 * The Standard Schema (zod) that checks the publisher's options: unknown keys
 * are errors and every missing option gets its default.
 *
 * @example Validate options
 * ```ts
 * import { dbOptionsSchema } from "@fanout/publishers-db";
 * import { validateWithSchema } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const result = await validateWithSchema(dbOptionsSchema, {});
 * assert.ok(result.ok);
 * assert.equal(result.value.url, "sqlite:./data/fanout.db");
 * ```
 *
 * @since 0.1.0
 */
export const dbOptionsSchema: StandardSchemaV1<unknown, ResolvedDbOptions> =
  optionsSchema;

/**
 * Checks options and fills in the defaults.
 *
 * @example Fill in the defaults
 * ```ts
 * import { resolveDbOptions } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveDbOptions({}).table, "fanout_messages");
 * ```
 *
 * @param options The options as written.
 * @returns The options with defaults.
 * @throws {RangeError} If a number is out of range.
 * @throws {TypeError} If an option is unknown, has the wrong type, or the URL
 * or table name is not valid.
 * @since 0.1.0
 */
export function resolveDbOptions(options: unknown): ResolvedDbOptions {
  const result = optionsSchema.safeParse(options);
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  const where = issue?.path.length ? `option "${issue.path.join(".")}"` : "";
  const problem = `${where ? `${where}: ` : ""}${issue?.message ?? "invalid"}`;
  const message = `Cannot create database publisher: ${problem}`;
  const range = issue?.code === "too_small" || issue?.code === "too_big";
  throw range ? new RangeError(message) : new TypeError(message);
}

/**
 * The database a URL points at, with everything needed to connect and to
 * talk about it without revealing the password.
 *
 * @since 0.1.0
 */
export interface DbTarget {
  /** Which driver serves it. */
  readonly kind: "sqlite" | "postgres" | "mysql";
  /** The URL as given, password included: only for the driver. */
  readonly url: string;
  /** The URL with its password replaced by `***`, safe to log. */
  readonly safeUrl: string;
  /** The SQLite file path as written after `sqlite:`, or `:memory:`. */
  readonly path: string;
  /** Replaces every occurrence of the password in a text with `***`. */
  redact(text: string): string;
}

/** Decodes a query string part, `+` as a space; a bad escape stays as is. */
function formDecode(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll("+", " "));
  } catch {
    return part;
  }
}

/**
 * Reads a database URL: which driver, the password to hide, and a masked
 * form to show in logs.
 *
 * @example Mask a password
 * ```ts
 * import { parseDbUrl } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * const target = parseDbUrl("postgres://fanout:s3cret@127.0.0.1/test");
 * assert.equal(target.safeUrl, "postgres://fanout:***@127.0.0.1/test");
 * assert.equal(target.redact("login s3cret failed"), "login *** failed");
 * ```
 *
 * @param url A URL accepted by the `url` option.
 * @returns What it points at.
 * @throws {TypeError} If the URL is not one the publisher understands; the
 * message does not repeat the URL.
 * @since 0.1.0
 */
export function parseDbUrl(url: string): DbTarget {
  const problem = urlProblem(url);
  if (problem) {
    throw new TypeError(`Cannot create database publisher: ${problem}`);
  }
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    return { kind: "sqlite", url, safeUrl: url, path, redact: (t) => t };
  }

  const parsed = new URL(url);
  const kind = parsed.protocol.startsWith("postgres") ? "postgres" : "mysql";
  const secrets = new Set<string>();
  const hide = (value: string): void => {
    if (value === "") return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // A malformed escape leaves only the raw form to hide.
    }
  };
  hide(parsed.password);
  const masked = new URL(url);
  if (masked.password) masked.password = "***";
  // Drivers also read credentials from the query string, such as
  // `?password=...` or `?sslpassword=...`: mask those values as written.
  if (masked.search.length > 1) {
    const pairs = masked.search.slice(1).split("&").map((pair) => {
      const at = pair.indexOf("=");
      if (at < 0) return pair;
      const name = formDecode(pair.slice(0, at));
      const value = pair.slice(at + 1);
      if (!SECRET_PARAMETER.test(name)) return pair;
      hide(value);
      hide(formDecode(value));
      return `${pair.slice(0, at)}=***`;
    });
    masked.search = `?${pairs.join("&")}`;
  }
  // Longest first, so that a secret holding another is hidden whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const redact = (text: string): string => {
    let out = text;
    for (const secret of ordered) out = out.replaceAll(secret, "***");
    return out;
  };
  return {
    kind,
    url,
    safeUrl: redact(masked.href.replaceAll("%2A%2A%2A", "***")),
    path: "",
    redact,
  };
}
