/**
 * A JSON value as it travels inside a {@linkcode Message} body.
 *
 * @since 0.1.0
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * One unit of work taken off a source and handed to every destination.
 *
 * @since 0.1.0
 */
export interface Message {
  /** Stable across redeliveries: the idempotency key every destination sees. */
  readonly id: string;
  /** What kind of event this is, such as `push` or `order.created`. */
  readonly type: string;
  /** The payload. */
  readonly body: JsonValue;
  /** String metadata carried beside the body. */
  readonly headers: Readonly<Record<string, string>>;
  /** When the producer made the message, in milliseconds since the epoch. */
  readonly producedAt: number;
}

/**
 * The fields a caller may give {@linkcode createMessage}.
 *
 * @since 0.1.0
 */
export interface MessageInit {
  /**
   * The idempotency key.
   *
   * @default {a random UUID}
   */
  id?: string;
  /**
   * The event type.
   *
   * @default {"message"}
   */
  type?: string;
  /** The payload. */
  body: JsonValue;
  /**
   * String metadata.
   *
   * @default {{}}
   */
  headers?: Record<string, string>;
  /**
   * Production time in milliseconds since the epoch.
   *
   * @default {Date.now()}
   */
  producedAt?: number;
}

/**
 * Builds a frozen {@linkcode Message}, filling in the id, type and time when
 * they are missing.
 *
 * @example Make a message
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const message = createMessage({ id: "a1", type: "push", body: { ref: "main" } });
 * assert.equal(message.id, "a1");
 * ```
 *
 * @param init The message fields.
 * @returns The message.
 * @throws {TypeError} If `id` or `type` is an empty string, or a header value
 * is not a string.
 */
export function createMessage(init: MessageInit): Message {
  const {
    id = crypto.randomUUID(),
    type = "message",
    body,
    headers = {},
    producedAt = Date.now(),
  } = init;

  if (typeof id !== "string" || id.length === 0) {
    throw new TypeError(`Cannot create message: id must be a non-empty string`);
  }
  if (typeof type !== "string" || type.length === 0) {
    throw new TypeError(
      `Cannot create message "${id}": type must be a non-empty string`,
    );
  }
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot create message "${id}": header "${key}" is a ${typeof value}, not a string`,
      );
    }
  }
  if (!Number.isFinite(producedAt)) {
    throw new TypeError(
      `Cannot create message "${id}": producedAt must be a finite number`,
    );
  }

  return Object.freeze({
    id,
    type,
    body,
    headers: Object.freeze({ ...headers }),
    producedAt,
  });
}

/**
 * Parses JSON text into a message body, keeping numbers that a double cannot
 * hold exactly as written: integers beyond 2^53, numbers with more than 15
 * significant digits and numbers out of a double's range become raw JSON
 * values that `JSON.stringify` writes back digit for digit, where a plain
 * `JSON.parse` would round them or turn them into `Infinity`.
 *
 * @example Keep a large id intact
 * ```ts
 * import { parseJson } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const body = parseJson('{"id":12345678901234567890}');
 * assert.equal(JSON.stringify(body), '{"id":12345678901234567890}');
 * ```
 *
 * @param text JSON text.
 * @returns The parsed value.
 * @throws {SyntaxError} If the text is not JSON.
 * @throws {RangeError} If the text is nested too deeply to be walked and
 * holds a run of 16 or more digits, which might be a large integer.
 * @since 0.1.0
 */
export function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text, keepLargeIntegers);
  } catch (error) {
    // The reviver recurses, so very deep JSON exhausts the stack where a
    // plain parse does not. Fall back when nothing could be a large integer.
    if (!(error instanceof RangeError) || /\d{16}/.test(text)) throw error;
    return JSON.parse(text);
  }
}

interface ReviverContext {
  source?: string;
}

type JsonWithRaw = typeof JSON & {
  rawJSON(text: string): JsonValue;
  isRawJSON(value: unknown): boolean;
};

function keepLargeIntegers(
  _key: string,
  value: unknown,
  context?: ReviverContext,
): unknown {
  if (
    typeof value === "number" && context?.source !== undefined &&
    (!Number.isFinite(value) || significantDigits(context.source) > 15)
  ) {
    return (JSON as JsonWithRaw).rawJSON(context.source);
  }
  return value;
}

/**
 * Counts the significant digits of a JSON number: more than 15 may not
 * survive a round trip through a double.
 */
function significantDigits(source: string): number {
  const mantissa = source.replace(/^-/, "").replace(/[eE].*$/, "")
    .replace(".", "");
  return mantissa.replace(/^0+/, "").length;
}

/**
 * Tells whether a body value is a raw JSON number made by
 * {@linkcode parseJson}.
 *
 * @example Spot a preserved integer
 * ```ts
 * import { isRawJson, parseJson } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const body = parseJson("[18446744073709551616]") as unknown[];
 * assert.ok(isRawJson(body[0]));
 * ```
 *
 * @param value Any value.
 * @returns Whether it is a raw JSON value.
 * @since 0.1.0
 */
export function isRawJson(value: unknown): boolean {
  return (JSON as JsonWithRaw).isRawJSON(value);
}
