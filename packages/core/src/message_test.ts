import assert from "node:assert/strict";
import { createMessage, isRawJson, parseJson } from "./message.ts";

Deno.test("parseJson() keeps integers beyond 2^53 digit for digit", () => {
  const text =
    '{"a":12345678901234567890123,"b":[-9007199254740993,1.5,2],"c":"9007199254740993"}';
  const body = parseJson(text) as Record<string, unknown>;
  assert.equal(JSON.stringify(body), text);
  assert.ok(isRawJson(body.a));
  assert.equal(body.c, "9007199254740993");
});

Deno.test("parseJson() keeps long decimals and numbers beyond a double's range as written", () => {
  const text = '{"a":1e400,"b":12345678901234567890.5,"c":0.1,"d":-0.0025}';
  const body = parseJson(text) as Record<string, unknown>;
  assert.equal(JSON.stringify(body), text);
  assert.ok(isRawJson(body.a));
  assert.ok(isRawJson(body.b));
  assert.equal(body.c, 0.1);
});

Deno.test("parseJson() reads JSON nested deeper than its reviver can walk", () => {
  const text = '{"a":'.repeat(5000) + "1" + "}".repeat(5000);
  assert.equal(JSON.stringify(parseJson(text)), text);
  assert.throws(
    () => parseJson("[".repeat(5000) + "12345678901234567" + "]".repeat(5000)),
    RangeError,
  );
});

Deno.test("createMessage() refuses an empty id and a header that is not a string", () => {
  assert.throws(() => createMessage({ id: "", body: {} }), TypeError);
  assert.throws(
    () =>
      createMessage({
        id: "m1",
        body: {},
        headers: { n: 1 as unknown as string },
      }),
    /header "n" is a number/,
  );
  const message = createMessage({ id: "m1", body: { x: 1 } });
  assert.ok(Object.isFrozen(message));
  assert.equal(message.type, "message");
});
