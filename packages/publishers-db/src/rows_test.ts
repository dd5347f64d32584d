import assert from "node:assert/strict";
import { createMessage, isPermanentError, type Message } from "@fanout/core";
import { toMessageRow } from "./rows.ts";

const limits = { destination: "db", maxBodyBytes: 64 };

function refusal(message: Message): string {
  try {
    toMessageRow(message, limits);
  } catch (error) {
    assert.ok(isPermanentError(error));
    return error.message;
  }
  return assert.fail(`message "${message.id}" was accepted`);
}

Deno.test("toMessageRow() serialises the body and headers with JSON.stringify", () => {
  const row = toMessageRow(
    createMessage({
      id: "m1",
      type: "t",
      body: { a: [1, null, "x"] },
      headers: { "x-key": "v" },
      producedAt: Date.UTC(2024, 1, 29, 12, 0, 0, 5),
    }),
    limits,
  );
  assert.equal(row.body, '{"a":[1,null,"x"]}');
  assert.equal(row.headers, '{"x-key":"v"}');
  assert.equal(row.producedAt, "2024-02-29T12:00:00.005Z");
});

Deno.test("toMessageRow() counts the body in UTF-8 bytes", () => {
  // 20 emoji are 80 bytes of UTF-8 but 40 UTF-16 code units.
  assert.match(
    refusal(createMessage({ id: "emoji", body: "😀".repeat(20) })),
    /^Cannot store message "emoji" in "db": the body is 82 bytes, more than the limit of 64 bytes$/,
  );
  const row = toMessageRow(
    createMessage({ id: "fits", body: "😀".repeat(15) }),
    limits,
  );
  assert.equal(row.body.length, 32);
});

Deno.test("toMessageRow() refuses ids and types a database would alter or refuse", () => {
  assert.match(
    refusal(createMessage({ id: "a\u0000b", body: 1 })),
    /^Cannot store message "a\\u0000b" in "db": id holds the character U\+0000$/,
  );
  assert.match(
    refusal(createMessage({ id: "x\ud800", body: 1 })),
    /id holds a lone surrogate/,
  );
  assert.match(
    refusal(createMessage({ id: "long", type: "t".repeat(256), body: 1 })),
    /type is longer than 255 characters/,
  );
  const emojiId = "😀".repeat(255);
  assert.equal(
    toMessageRow(createMessage({ id: emojiId, body: 1 }), limits).id,
    emojiId,
  );
});

Deno.test("toMessageRow() refuses a production time outside years 1000 to 9999", () => {
  assert.match(
    refusal(createMessage({ id: "far", body: 1, producedAt: 8.64e15 })),
    /producedAt 8640000000000000 is outside the years 1000 to 9999/,
  );
  assert.match(
    refusal(createMessage({ id: "early", body: 1, producedAt: -4e13 })),
    /outside the years/,
  );
});

Deno.test("toMessageRow() refuses a body JSON.stringify cannot write", () => {
  const body = { n: 1n } as unknown as Message["body"];
  const message = { ...createMessage({ id: "bigint", body: 1 }), body };
  assert.match(
    refusal(message),
    /^Cannot store message "bigint" in "db": the body or headers cannot be serialised as JSON$/,
  );
  const undefinedBody = {
    ...createMessage({ id: "nothing", body: 1 }),
    body: undefined as unknown as Message["body"],
  };
  assert.match(refusal(undefinedBody), /the body is not a JSON value/);
});
