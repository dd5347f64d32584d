import { createMessage, parseJson } from "@fanout/core";
import assert from "node:assert/strict";
import { metricsOptionsSchema } from "./options.ts";
import { compileRule, fieldReader } from "./rules.ts";
import type { MetricRule } from "./options.ts";

function rule(input: MetricRule) {
  const options = metricsOptionsSchema.parse({
    prometheus: {},
    rules: [input],
  });
  return compileRule(options.rules[0]!);
}

Deno.test("fieldReader() follows own properties and array indexes only", () => {
  const message = createMessage({
    type: "push",
    body: { a: { list: [{ n: 4 }] } },
    headers: { "x-id": "7" },
  });
  assert.equal(fieldReader("body.a.list.0.n")(message), 4);
  assert.equal(fieldReader("body.a.list.x")(message), undefined);
  assert.equal(fieldReader("body.a.constructor")(message), undefined);
  assert.equal(fieldReader("body.a.list.length")(message), undefined);
  assert.equal(fieldReader("headers.x-id")(message), "7");
  assert.equal(fieldReader("headers.toString")(message), undefined);
  assert.equal(fieldReader("type")(message), "push");
});

Deno.test("compileRule() reads numbers, large raw integers and tags", () => {
  const gauge = rule({
    name: "size",
    kind: "gauge",
    value: "body.size",
    tags: { big: "body.id", flag: "body.ok", gone: "body.nothing" },
  });
  const body = parseJson(
    '{"size":18446744073709551616,"id":18446744073709551617,"ok":true}',
  );

  const outcome = gauge.apply(createMessage({ body }));

  assert.deepEqual(outcome, {
    ok: true,
    value: 18446744073709551616,
    tags: { big: "18446744073709551617", flag: "true" },
  });
});

Deno.test("compileRule() skips messages of other types and counts 1 by default", () => {
  const counter = rule({ name: "n", kind: "counter", match: { type: "a" } });

  assert.equal(
    counter.apply(createMessage({ type: "b", body: {} })),
    undefined,
  );
  assert.deepEqual(counter.apply(createMessage({ type: "a", body: {} })), {
    ok: true,
    value: 1,
    tags: {},
  });
});

Deno.test("compileRule() explains why a value cannot be a metric value", () => {
  const counter = rule({ name: "n", kind: "counter", value: "body.v" });
  const reasons = [{ v: "3" }, {}, { v: null }, { v: -1 }, { v: [1] }].map(
    (body) => counter.apply(createMessage({ body })),
  );

  assert.deepEqual(reasons, [
    { ok: false, reason: '"body.v" is a string, not a number' },
    { ok: false, reason: '"body.v" is missing, not a number' },
    { ok: false, reason: '"body.v" is null, not a number' },
    { ok: false, reason: '"body.v" is negative, which a counter cannot add' },
    { ok: false, reason: '"body.v" is an array, not a number' },
  ]);
});
