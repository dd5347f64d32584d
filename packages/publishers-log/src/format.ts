import { type JsonValue, type Message, PermanentError } from "@fanout/core";
import { redactMessage, type RedactPath } from "./redact.ts";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;

/**
 * Characters that `JSON.stringify` leaves raw but a terminal may act on:
 * DEL, the C1 controls (U+009B starts an escape sequence on some
 * terminals), the Unicode line separators and the bidirectional overrides.
 */
const UNSAFE =
  /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** How one message becomes one line. */
export interface LineFormat {
  readonly format: "pretty" | "json";
  readonly destination: string;
  readonly redact: readonly RedactPath[];
  readonly maxLineBytes: number;
}

/**
 * Serialises a value as JSON with every control character escaped, so the
 * text is a single line and safe to print. Raw JSON numbers made by core's
 * `parseJson` keep their digits.
 *
 * @param value The value.
 * @returns The JSON text.
 */
export function safeJson(value: unknown): string {
  return escapeUnsafe(JSON.stringify(value) ?? "null");
}

/**
 * Writes a short text as is when it is plain printable ASCII without
 * spaces, and as a quoted, escaped JSON string otherwise.
 *
 * @param text The text.
 * @returns A token that cannot break the line.
 */
export function safeToken(text: string): string {
  return /^[!-~]+$/.test(text) ? text : safeJson(text);
}

/**
 * The marker that ends a cut line.
 *
 * @param omitted How many bytes were left out.
 * @returns The marker text.
 */
export function truncationMarker(omitted: number): string {
  return `…[truncated ${omitted} bytes]`;
}

/**
 * Turns a message into one log line, newline included.
 *
 * @param message The message.
 * @param line The format, destination name, redaction and size limit.
 * @param now The time to print, in milliseconds since the epoch.
 * @returns The UTF-8 bytes of the line.
 * @throws {PermanentError} If the body cannot be serialised.
 */
export function formatLine(
  message: Message,
  line: LineFormat,
  now: number,
): Uint8Array {
  const { headers, body } = redactMessage(message, line.redact);
  const time = new Date(now).toISOString();

  try {
    if (line.format === "json") {
      const record = {
        time,
        destination: line.destination,
        id: message.id,
        type: message.type,
        producedAt: message.producedAt,
        headers,
        body,
      };
      return withNewline(fitJson(record, line.maxLineBytes));
    }
    const text = [
      time,
      safeToken(line.destination),
      safeToken(message.id),
      safeToken(message.type),
      safeJson(body),
    ].join(" ");
    return withNewline(cutUtf8(encoder.encode(text), line.maxLineBytes));
  } catch (error) {
    throw new PermanentError(
      `Cannot format message "${message.id}": its body cannot be serialised as JSON`,
      { cause: error },
    );
  }
}

/**
 * Cuts UTF-8 bytes to at most `maxBytes`, never inside a character, and
 * ends them with the truncation marker.
 *
 * @param bytes The encoded text.
 * @param maxBytes The limit, marker included.
 * @returns The bytes themselves when they fit, or the cut bytes.
 */
export function cutUtf8(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.length <= maxBytes) return bytes;

  // The marker can only get shorter once the real count is known.
  const reserve = encoder.encode(truncationMarker(bytes.length)).length;
  let cut = Math.max(0, maxBytes - reserve);
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;

  const marker = encoder.encode(truncationMarker(bytes.length - cut));
  const out = new Uint8Array(cut + marker.length);
  out.set(bytes.subarray(0, cut));
  out.set(marker, cut);
  return out;
}

interface JsonRecord {
  readonly time: string;
  readonly destination: string;
  readonly id: string;
  readonly type: string;
  readonly producedAt: number;
  readonly headers: JsonValue;
  readonly body: JsonValue;
}

/**
 * Serialises a record, and when it is too long, replaces its body by a
 * string holding the start of the body's JSON and the marker, so that the
 * line stays valid JSON. Only when even an empty body does not fit is the
 * line itself cut.
 */
function fitJson(record: JsonRecord, maxBytes: number): Uint8Array {
  const whole = encoder.encode(safeJson(record));
  if (whole.length <= maxBytes) return whole;

  const bodyText = JSON.stringify(record.body) ?? "null";
  const bodyBytes = encoder.encode(bodyText).length;
  const { body: _, ...rest } = record;
  const attempt = (length: number): Uint8Array => {
    const end = isHighSurrogate(bodyText.charCodeAt(length - 1))
      ? length - 1
      : length;
    const prefix = bodyText.slice(0, end);
    const omitted = bodyBytes - encoder.encode(prefix).length;
    const cutBody = prefix + truncationMarker(omitted);
    return encoder.encode(
      safeJson({ ...rest, truncated: true, body: cutBody }),
    );
  };

  let best = attempt(0);
  if (best.length > maxBytes) return cutUtf8(whole, maxBytes);

  // The line never shrinks as the prefix grows, so the longest prefix that
  // fits is found by bisection.
  let low = 0;
  let high = Math.min(bodyText.length, maxBytes);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const candidate = attempt(middle);
    if (candidate.length <= maxBytes) {
      low = middle;
      best = candidate;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function escapeUnsafe(json: string): string {
  return json.replace(
    UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function withNewline(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = NEWLINE;
  return out;
}
