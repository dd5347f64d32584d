import assert from "node:assert/strict";
import type { FanOutEvent } from "@fanout/core";
import { formatEvent } from "./format_event.ts";
import { unsafeChars } from "../testdata/helpers.ts";

Deno.test("formatEvent() describes every event type on one line", () => {
  const cases: [FanOutEvent, string][] = [
    [
      { type: "received", destination: "db", messageId: "m1" },
      "received destination=db message=m1",
    ],
    [
      {
        type: "delivered",
        destination: "db",
        messageId: "m1",
        attempts: 2,
        durationMs: 15,
      },
      "delivered destination=db message=m1 attempts=2 durationMs=15",
    ],
    [
      {
        type: "dead-lettered",
        destination: "db",
        messageId: "m1",
        attempts: 5,
        error: new RangeError("too big"),
      },
      'dead-lettered destination=db message=m1 attempts=5 error="RangeError: too big"',
    ],
    [
      {
        type: "dropped",
        destination: "metrics",
        messageId: "m2",
        attempts: 1,
        error: "gone",
      },
      "dropped destination=metrics message=m2 attempts=1 error=gone",
    ],
    [
      { type: "queue-depth", depth: 7, capacity: 100 },
      "queue-depth depth=7 capacity=100",
    ],
  ];

  for (const [event, expected] of cases) {
    assert.equal(formatEvent(event), expected);
  }
});

Deno.test("formatEvent() escapes control characters in names and errors", () => {
  const text = formatEvent({
    type: "retried",
    destination: "a b",
    messageId: "m\r\n1",
    attempt: 1,
    delayMs: 100,
    error: new Error("line one\nline two \u001b[31mred\u009b"),
  });

  assert.deepEqual(unsafeChars(text), []);
  assert.ok(text.startsWith('retried destination="a b" message="m\\r\\n1"'));
  assert.ok(text.includes(String.raw`\u001b[31mred\u009b`), text);
});
