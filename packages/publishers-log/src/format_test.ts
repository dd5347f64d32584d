import assert from "node:assert/strict";
import { createMessage, isPermanentError, parseJson } from "@fanout/core";
import { cutUtf8, formatLine, type LineFormat } from "./format.ts";
import { parseRedactPath } from "./redact.ts";
import { unsafeChars } from "../testdata/helpers.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MARKER = /…\[truncated (\d+) bytes\]$/;

function format(overrides: Partial<LineFormat> = {}): LineFormat {
  return {
    format: "pretty",
    destination: "audit",
    redact: [],
    maxLineBytes: 64 * 1024,
    ...overrides,
  };
}

function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

Deno.test("formatLine() writes a pretty line with time, destination, id, type and body", () => {
  const now = Date.UTC(2025, 0, 2, 3, 4, 5, 67);
  const message = createMessage({
    id: "order-7",
    type: "order.created",
    body: { total: 3, items: ["a"] },
  });

  const line = text(formatLine(message, format(), now));

  assert.ok(line.endsWith("\n"));
  const [time, destination, id, type, ...rest] = line.trimEnd().split(" ");
  assert.equal(time, "2025-01-02T03:04:05.067Z");
  assert.match(time ?? "", ISO_MS);
  assert.equal(destination, "audit");
  assert.equal(id, "order-7");
  assert.equal(type, "order.created");
  assert.deepEqual(JSON.parse(rest.join(" ")), { total: 3, items: ["a"] });
});

Deno.test("formatLine() writes a JSON line that parses back to the message fields", () => {
  const now = Date.now();
  const message = createMessage({
    id: "m1",
    type: "push",
    headers: { source: "git" },
    body: { ref: "main", n: [1, 2] },
    producedAt: 1_700_000_000_123,
  });

  const line = text(formatLine(message, format({ format: "json" }), now));
  const record = JSON.parse(line);

  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.equal(record.time, new Date(now).toISOString());
  assert.match(record.time, ISO_MS);
  assert.equal(record.destination, "audit");
  assert.equal(record.id, message.id);
  assert.equal(record.type, message.type);
  assert.equal(record.producedAt, message.producedAt);
  assert.deepEqual(record.headers, message.headers);
  assert.deepEqual(record.body, message.body);
});

Deno.test("formatLine() keeps every digit of a big integer body in both formats", () => {
  const digits = "123456789012345678901234567890";
  const message = createMessage({
    id: "big",
    body: parseJson(`{"amount":${digits},"list":[-${digits}]}`),
  });

  for (const kind of ["pretty", "json"] as const) {
    const line = text(formatLine(message, format({ format: kind }), 0));
    assert.ok(line.includes(`"amount":${digits}`), `${kind}: ${line}`);
    assert.ok(line.includes(`[-${digits}]`), `${kind}: ${line}`);
    assert.ok(!line.includes("e+"), `${kind}: ${line}`);
  }
});

Deno.test("formatLine() keeps hostile strings on one line without raw control bytes", () => {
  const hostile =
    "a\nb\rc\u001b[31mred\u0000\u007f\u009b2J\u2028\u202e\u200f\u061c\u200b\ufeffdone";
  const message = createMessage({
    id: "id\nwith break",
    type: "type\u001b[0m",
    headers: { "x-evil": hostile },
    body: { s: hostile, [hostile]: 1 },
  });

  for (const kind of ["pretty", "json"] as const) {
    const bytes = formatLine(message, format({ format: kind }), 0);
    const line = text(bytes);

    assert.equal(bytes.filter((b) => b === 0x0a).length, 1, kind);
    assert.equal(bytes.at(-1), 0x0a, kind);
    assert.ok(!bytes.includes(0x0d), kind);
    assert.ok(!bytes.includes(0x1b), kind);
    assert.deepEqual(unsafeChars(line.slice(0, -1)), [], kind);
    if (kind === "json") {
      const record = JSON.parse(line);
      assert.equal(record.body.s, hostile);
      assert.equal(record.id, message.id);
      assert.equal(record.headers["x-evil"], hostile);
    } else {
      assert.ok(line.includes(String.raw`"a\nb\rc\u001b[31mred`), line);
      assert.ok(line.includes(String.raw`"id\nwith break"`), line);
    }
  }
});

Deno.test("formatLine() cuts a long pretty line on a character boundary and marks it", () => {
  const message = createMessage({
    id: "long",
    body: { s: "€🙂ü".repeat(400) },
  });
  const whole = formatLine(message, format(), 0).length - 1;

  // Every alignment of the cut against 2, 3 and 4 byte characters.
  for (let max = 300; max < 316; max++) {
    const bytes = formatLine(message, format({ maxLineBytes: max }), 0);
    const line = text(bytes).slice(0, -1);
    const size = bytes.length - 1;

    assert.ok(size <= max, `max ${max}: ${size} bytes`);
    const marker = MARKER.exec(line);
    assert.ok(marker, `max ${max}: no marker in ${line}`);
    const kept = size - encoder.encode(marker[0]).length;
    assert.ok(kept >= max - encoder.encode(marker[0]).length - 3);
    assert.equal(Number(marker[1]), whole - kept, `max ${max}`);
    assert.ok(!line.includes("\uFFFD"), `max ${max}`);
  }
});

Deno.test("formatLine() cuts the body of a long JSON line and keeps the line valid JSON", () => {
  const body = { s: '€🙂"ü'.repeat(400), n: parseJson("98765432109876543210") };
  const message = createMessage({ id: "long", headers: { a: "b" }, body });
  const bodyText = JSON.stringify(message.body);

  for (let max = 400; max < 416; max++) {
    const bytes = formatLine(
      message,
      format({ format: "json", maxLineBytes: max }),
      0,
    );
    const size = bytes.length - 1;
    const record = JSON.parse(text(bytes));

    assert.ok(size <= max, `max ${max}: ${size} bytes`);
    assert.ok(size >= max - 8, `max ${max}: only ${size} bytes used`);
    assert.equal(record.truncated, true);
    assert.equal(record.id, "long");
    assert.deepEqual(record.headers, { a: "b" });
    const marker = MARKER.exec(record.body);
    assert.ok(marker, record.body);
    const prefix = record.body.slice(0, marker.index);
    assert.ok(bodyText.startsWith(prefix));
    assert.equal(
      Number(marker[1]),
      encoder.encode(bodyText).length - encoder.encode(prefix).length,
    );
    assert.doesNotMatch(prefix, /[\uD800-\uDBFF]$/);
  }
});

Deno.test("formatLine() cuts a JSON line itself when even an empty body does not fit", () => {
  const message = createMessage({
    id: "h",
    headers: { big: "x".repeat(1000) },
    body: {},
  });

  const bytes = formatLine(
    message,
    format({ format: "json", maxLineBytes: 200 }),
    0,
  );

  assert.ok(bytes.length - 1 <= 200);
  assert.match(text(bytes).trimEnd(), MARKER);
});

Deno.test("formatLine() writes redacted values and refuses a body it cannot serialise", () => {
  const message = createMessage({
    id: "r",
    headers: { Authorization: "Bearer abc" },
    body: { password: "hunter2", keep: "yes" },
  });
  const redact = ["body.password", "headers.authorization"].map(
    parseRedactPath,
  );

  const record = JSON.parse(
    text(formatLine(message, format({ format: "json", redact }), 0)),
  );
  assert.deepEqual(record.body, { password: "[REDACTED]", keep: "yes" });
  assert.deepEqual(record.headers, { Authorization: "[REDACTED]" });
  const pretty = text(formatLine(message, format({ redact }), 0));
  assert.ok(!pretty.includes("hunter2"), pretty);

  const bad = createMessage({ id: "bad", body: { n: 1n } as never });
  assert.throws(() => formatLine(bad, format(), 0), isPermanentError);
});

Deno.test("cutUtf8() leaves short text alone and never splits a character", () => {
  const short = encoder.encode("héllo");
  assert.equal(cutUtf8(short, 6), short);

  const long = encoder.encode("🙂".repeat(50));
  for (let max = 40; max < 44; max++) {
    const cut = text(cutUtf8(long, max));
    assert.ok(encoder.encode(cut).length <= max);
    assert.match(cut, /^(🙂)+…\[truncated \d+ bytes\]$/u);
  }
});
