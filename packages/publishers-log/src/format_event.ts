import { describeError, type FanOutEvent } from "@fanout/core";
import { safeJson, safeToken } from "./format.ts";

/**
 * Turns one of core's fan-out events into a single line of text without a
 * trailing newline: the event type, then `key=value` fields. Names and
 * error descriptions that hold spaces or control characters are quoted
 * and escaped, so the text can never span two lines.
 *
 * @example Describe a retry
 * ```ts
 * import { formatEvent } from "@fanout/publishers-log";
 * import assert from "node:assert/strict";
 *
 * const text = formatEvent({
 *   type: "retried",
 *   destination: "db",
 *   messageId: "m1",
 *   attempt: 1,
 *   delayMs: 200,
 *   error: new Error("connection reset"),
 * });
 * assert.equal(
 *   text,
 *   'retried destination=db message=m1 attempt=1 delayMs=200 error="Error: connection reset"',
 * );
 * ```
 *
 * @param event The event.
 * @returns One line describing it.
 * @since 0.1.0
 */
export function formatEvent(event: FanOutEvent): string {
  switch (event.type) {
    case "received":
      return line(event.type, {
        destination: event.destination,
        message: event.messageId,
      });
    case "delivered":
      return line(event.type, {
        destination: event.destination,
        message: event.messageId,
        attempts: event.attempts,
        durationMs: event.durationMs,
      });
    case "retried":
      return line(event.type, {
        destination: event.destination,
        message: event.messageId,
        attempt: event.attempt,
        delayMs: event.delayMs,
        error: describeError(event.error),
      });
    case "dead-lettered":
    case "dropped":
      return line(event.type, {
        destination: event.destination,
        message: event.messageId,
        attempts: event.attempts,
        error: describeError(event.error),
      });
    case "queue-depth":
      return line(event.type, {
        depth: event.depth,
        capacity: event.capacity,
      });
    default:
      // An event type newer than this package still becomes one line.
      return `event ${safeJson(event as unknown)}`;
  }
}

function line(
  type: string,
  fields: Record<string, string | number>,
): string {
  const parts = [safeToken(type)];
  for (const [key, value] of Object.entries(fields)) {
    const text = typeof value === "number" ? String(value) : safeToken(value);
    parts.push(`${key}=${text}`);
  }
  return parts.join(" ");
}
