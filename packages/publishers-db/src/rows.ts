import { type Message, PermanentError } from "@fanout/core";

/**
 * One message made ready for a table row: every value a driver parameter,
 * the JSON already serialised.
 *
 * @since 0.1.0
 */
export interface MessageRow {
  /** The message id, the primary key. */
  readonly id: string;
  /** The message type. */
  readonly type: string;
  /** The body as JSON text, exactly as `JSON.stringify` wrote it. */
  readonly body: string;
  /** The headers as JSON text. */
  readonly headers: string;
  /** The production time as an ISO 8601 UTC string with milliseconds. */
  readonly producedAt: string;
  /** The row's approximate size in bytes, for splitting batches. */
  readonly bytes: number;
}

/**
 * The longest id and type accepted, in Unicode code points: the width of
 * MariaDB's key column, applied everywhere so that every database refuses
 * the same messages.
 *
 * @since 0.1.0
 */
export const MAX_ID_LENGTH = 255;

// Between 1000-01-01 and 9999-12-31, the range every supported database stores.
const MIN_TIME = Date.UTC(1000, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Checks a message and turns it into a {@linkcode MessageRow}.
 *
 * @example Serialise a message
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { toMessageRow } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * const row = toMessageRow(
 *   createMessage({ id: "m1", body: [1, "two"], producedAt: 0 }),
 *   { destination: "db", maxBodyBytes: 1024 },
 * );
 * assert.equal(row.body, '[1,"two"]');
 * assert.equal(row.producedAt, "1970-01-01T00:00:00.000Z");
 * ```
 *
 * @param message The message.
 * @param limits The destination's name, for errors, and the body limit.
 * @returns The row.
 * @throws {PermanentError} If the id or type is empty, too long, holds U+0000
 * or a lone surrogate, the time is outside years 1000 to 9999, the body cannot
 * be serialised or is larger than `maxBodyBytes`.
 * @since 0.1.0
 */
export function toMessageRow(
  message: Message,
  limits: { destination: string; maxBodyBytes: number },
): MessageRow {
  const { destination, maxBodyBytes } = limits;
  const refuse = (problem: string, cause?: unknown) =>
    new PermanentError(
      `Cannot store message ${
        quote(message.id)
      } in "${destination}": ${problem}`,
      cause === undefined ? undefined : { cause },
    );

  const idProblem = textProblem("id", message.id) ??
    textProblem("type", message.type);
  if (idProblem) throw refuse(idProblem);
  const time = message.producedAt;
  if (!Number.isFinite(time) || time < MIN_TIME || time > MAX_TIME) {
    throw refuse(`producedAt ${time} is outside the years 1000 to 9999`);
  }

  let body: string | undefined;
  let headers: string;
  try {
    body = JSON.stringify(message.body);
    headers = JSON.stringify(message.headers ?? {});
  } catch (error) {
    throw refuse("the body or headers cannot be serialised as JSON", error);
  }
  if (body === undefined) throw refuse("the body is not a JSON value");
  const bodyBytes = utf8Length(body);
  if (bodyBytes > maxBodyBytes) {
    throw refuse(
      `the body is ${formatBytes(bodyBytes)}, more than the limit of ${
        formatBytes(maxBodyBytes)
      }`,
    );
  }

  return {
    id: message.id,
    type: message.type,
    body,
    headers,
    producedAt: new Date(Math.trunc(time)).toISOString(),
    bytes: bodyBytes + utf8Length(headers) + utf8Length(message.id) + 64,
  };
}

/** Says why an id or type cannot be a key column value, if it cannot. */
function textProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value.length === 0) {
    return `${name} must be a non-empty string`;
  }
  if (!value.isWellFormed()) return `${name} holds a lone surrogate`;
  if (value.includes("\u0000")) return `${name} holds the character U+0000`;
  if (value.length > MAX_ID_LENGTH && codePoints(value) > MAX_ID_LENGTH) {
    return `${name} is longer than ${MAX_ID_LENGTH} characters`;
  }
  return undefined;
}

/** Counts the UTF-8 bytes of a text without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (
      code >= 0xd800 && code < 0xdc00 && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return `${bytes} bytes`;
}

/** Quotes an id for an error message, escaping what would break the line. */
export function quote(id: unknown): string {
  const text = typeof id === "string" ? id : String(id);
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
