import assert from "node:assert/strict";
import { createMessage, type JsonValue, parseJson } from "@fanout/core";
import { parseRedactPath, REDACTED, redactMessage } from "./redact.ts";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

Deno.test("redactMessage() masks nested and wildcard paths and leaves the message untouched", () => {
  const body = deepFreeze(parseJson(JSON.stringify({
    password: "hunter2",
    user: { name: "ada", token: "t-1", profile: { token: "stays" } },
    items: [
      { secret: "s1", keep: 1 },
      { secret: "s2" },
      { other: true },
    ],
    groups: { a: { secret: "g1", n: 1 }, b: { secret: "g2" } },
  })));
  const message = createMessage({
    id: "m1",
    headers: { Authorization: "Bearer x", "x-trace": "t" },
    body,
  });
  const before = JSON.stringify(message);

  const paths = [
    "body.password",
    "body.user.token",
    "body.items[*].secret",
    "body.groups.*.secret",
    "headers.authorization",
    "body.missing.deeper",
    "body.items[7].secret",
  ].map(parseRedactPath);
  const { headers, body: out } = redactMessage(message, paths);

  assert.deepEqual(out, {
    password: REDACTED,
    user: { name: "ada", token: REDACTED, profile: { token: "stays" } },
    items: [
      { secret: REDACTED, keep: 1 },
      { secret: REDACTED },
      { other: true },
    ],
    groups: { a: { secret: REDACTED, n: 1 }, b: { secret: REDACTED } },
  });
  assert.deepEqual(headers, { Authorization: REDACTED, "x-trace": "t" });
  assert.equal(JSON.stringify(message), before);
  assert.equal(message.headers.Authorization, "Bearer x");
});

Deno.test("redactMessage() shares untouched parts and handles indexes, quoted keys and raw integers", () => {
  const body = parseJson(
    '{"list":["a","b","c"],"a.b":{"c":1},"big":12345678901234567890,"keep":{"x":1}}',
  );
  const message = createMessage({ id: "m2", body });

  const { body: out } = redactMessage(
    message,
    ["body.list[1]", 'body["a.b"].c', "body.big", "body.big.rawJSON"].map(
      parseRedactPath,
    ),
  );

  assert.equal(
    JSON.stringify(out),
    '{"list":["a","[REDACTED]","c"],"a.b":{"c":"[REDACTED]"},"big":"[REDACTED]","keep":{"x":1}}',
  );
  const original = body as { keep: JsonValue; big: JsonValue };
  assert.equal((out as { keep: JsonValue }).keep, original.keep);
  assert.equal(JSON.stringify(original.big), "12345678901234567890");
});

Deno.test("redactMessage() replaces the whole body and keeps a __proto__ key as data", () => {
  const message = createMessage({
    id: "m3",
    body: parseJson('{"__proto__":{"secret":"x"},"plain":1}'),
  });

  const whole = redactMessage(message, [parseRedactPath("body")]);
  assert.equal(whole.body, REDACTED);

  const { body } = redactMessage(message, [
    parseRedactPath("body.__proto__.secret"),
  ]);
  assert.equal(
    JSON.stringify(body),
    '{"__proto__":{"secret":"[REDACTED]"},"plain":1}',
  );
  assert.equal(Object.getPrototypeOf(body), Object.prototype);
});

Deno.test("parseRedactPath() refuses paths outside body and headers or with bad segments", () => {
  for (
    const bad of ["password", "bodyx.a", "body..a", "body[abc]", "body.a["]
  ) {
    assert.throws(() => parseRedactPath(bad), TypeError, bad);
  }
  assert.deepEqual(parseRedactPath("headers.x-api-key"), {
    root: "headers",
    segments: ["x-api-key"],
  });
  assert.equal(parseRedactPath("body.items[*].secret").segments.length, 3);
});
