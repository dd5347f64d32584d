import assert from "node:assert/strict";
import {
  createMessage,
  isClosedError,
  isPermanentError,
  type JsonValue,
  type Message,
  parseJson,
} from "@fanout/core";
import {
  type Database,
  databases,
  DESTINATION,
  type StoredRow,
} from "./_test_support.ts";
import { createDbPublisher } from "./db_publisher.ts";

const BASE_TIME = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

function thousandMessages(): Message[] {
  return Array.from({ length: 1000 }, (_, i) =>
    createMessage({
      id: `order-${String(i).padStart(4, "0")}`,
      type: i % 3 === 0 ? "order.paid" : "order.created",
      body: {
        n: i,
        total: i * 1.25,
        items: [{ sku: `sku-${i % 7}`, qty: i % 5 }],
        note: i % 11 === 0 ? null : `note ${i} ✓`,
      },
      headers: { source: "test", attempt: String(i % 2) },
      producedAt: BASE_TIME + i * 1000,
    }));
}

/** Checks that stored rows hold exactly these messages. */
function assertRowsMatch(rows: StoredRow[], messages: readonly Message[]) {
  assert.equal(rows.length, messages.length);
  const byId = new Map(messages.map((m) => [m.id, m]));
  for (const row of rows) {
    const message = byId.get(row.id);
    assert.ok(message, `unexpected row "${row.id}"`);
    assert.equal(row.type, message.type);
    assert.deepEqual(parseJson(row.body), message.body);
    assert.deepEqual(JSON.parse(row.headers), message.headers);
    assert.equal(row.producedAt, new Date(message.producedAt).toISOString());
  }
}

async function inBatches(
  messages: readonly Message[],
  size: number,
  write: (batch: Message[]) => Promise<unknown>,
) {
  for (let i = 0; i < messages.length; i += size) {
    await write(messages.slice(i, i + size));
  }
}

for (const db of databases) {
  Deno.test({
    name:
      `DbPublisher.publish() and DbPublisher.publishBatch() store the same 1,000 rows once on ${db.name}`,
    ignore: db.ignore,
    async fn() {
      const messages = thousandMessages();
      await using single = await db.open();
      await using batch = await db.open();
      await using one = await single.publisher();
      await using many = await batch.publisher();

      for (const message of messages) await one.publish(message);
      const result = await many.publishBatch(messages);
      assert.equal(result.failures.size, 0);

      const singleRows = await single.rows();
      assert.deepEqual(await batch.rows(), singleRows);
      assertRowsMatch(singleRows, messages);

      await inBatches(messages, 100, async (part) => {
        const again = await one.publishBatch(part);
        assert.equal(again.failures.size, 0);
      });
      for (const message of messages) await many.publish(message);
      assert.equal(await single.count(), 1000);
      assert.equal(await batch.count(), 1000);
      assert.deepEqual(await single.rows(), singleRows);
      assert.deepEqual(await batch.rows(), singleRows);
    },
  });
}

interface HostileCase {
  id: string;
  body: JsonValue;
  /** The databases that refuse it; the others store it. */
  refusedBy: readonly Database["name"][];
  /** Extra checks on the stored JSON text. */
  check?: (text: string) => void;
  /** Compare canonical text instead of parsed values (too deep for assert). */
  compareText?: boolean;
}

function deepArray(levels: number): JsonValue {
  let value: JsonValue = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

const MiB = 1024 * 1024;
const BIG = [
  "123456789012345678901234567890",
  "-9007199254740993",
  "18446744073709551616",
];

function hostileCases(): HostileCase[] {
  return [
    { id: "nul-char", body: "\u0000", refusedBy: ["PostgreSQL"] },
    {
      id: "lone-surrogate",
      body: { text: "a\ud800b", tail: "\udfff" },
      refusedBy: ["PostgreSQL"],
    },
    {
      id: "emoji-rtl",
      body: {
        emoji: "😀👩‍👩‍👧🏳️‍🌈",
        rtl: "مرحبا بالعالم שלום",
        override: "abc\u202Edef",
      },
      refusedBy: [],
    },
    {
      id: "big-integers",
      body: parseJson(`{"big":${BIG[0]},"neg":${BIG[1]},"list":[${BIG[2]}]}`),
      refusedBy: [],
      check: (text) => {
        for (const digits of BIG) assert.ok(text.includes(digits), digits);
      },
    },
    {
      id: "one-mebibyte",
      body: { blob: "é".repeat(MiB / 2 - 8) },
      refusedBy: [],
    },
    {
      id: "deep-nesting",
      body: deepArray(10_000),
      refusedBy: [],
      compareText: true,
    },
    { id: "array-body", body: [1, "two", null, { three: 3 }], refusedBy: [] },
    { id: "string-body", body: "just a string", refusedBy: [] },
    { id: "null-body", body: null, refusedBy: [] },
    {
      id: "odd-keys",
      body: {
        'say "hi"': 1,
        "a.b.c": { "it's": true, "": "empty key" },
        "back\\slash": "\\",
        "$.path[0]": "dots",
      },
      refusedBy: [],
    },
    {
      id: "too-large",
      body: { blob: "x".repeat(2 * MiB) },
      refusedBy: ["SQLite", "PostgreSQL", "MariaDB"],
    },
  ];
}

function assertStored(row: StoredRow | undefined, test: HostileCase) {
  assert.ok(row, `message "${test.id}" was not stored`);
  if (test.compareText) {
    assert.equal(
      JSON.stringify(JSON.parse(row.body)),
      JSON.stringify(test.body),
    );
  } else {
    assert.deepEqual(parseJson(row.body), test.body);
  }
  test.check?.(row.body);
}

for (const db of databases) {
  Deno.test({
    name:
      `DbPublisher.publishBatch() stores each hostile body faithfully or refuses it alone on ${db.name}`,
    ignore: db.ignore,
    async fn() {
      const cases = hostileCases();
      const good = Array.from(
        { length: 3 },
        (_, i) => createMessage({ id: `good-${i}`, body: { i } }),
      );
      const hostile = cases.map((c) =>
        createMessage({ id: c.id, body: c.body, producedAt: BASE_TIME })
      );
      const refused = new Set(
        cases.filter((c) => c.refusedBy.includes(db.name)).map((c) => c.id),
      );

      await using batchTable = await db.open();
      await using singleTable = await db.open();
      await using batch = await batchTable.publisher({ maxBodyBytes: 2 * MiB });
      await using single = await singleTable.publisher({
        maxBodyBytes: 2 * MiB,
      });

      const result = await batch.publishBatch([
        good[0]!,
        ...hostile.slice(0, 5),
        good[1]!,
        ...hostile.slice(5),
        good[2]!,
      ]);
      assert.deepEqual(new Set(result.failures.keys()), refused);
      for (const [id, error] of result.failures) {
        assert.ok(isPermanentError(error), `${id}: ${error}`);
        assert.ok(error.message.includes(`"${id}"`), error.message);
        assert.ok(error.message.includes(`"${DESTINATION}"`), error.message);
      }

      for (const message of [...good, ...hostile]) {
        try {
          await single.publish(message);
          assert.ok(!refused.has(message.id), `"${message.id}" was stored`);
        } catch (error) {
          assert.ok(refused.has(message.id), `"${message.id}": ${error}`);
          assert.ok(isPermanentError(error));
          assert.ok(error.message.includes(`"${message.id}"`));
        }
      }

      const rows = await batchTable.rows();
      const stored = new Map(rows.map((row) => [row.id, row]));
      assert.equal(rows.length, good.length + cases.length - refused.size);
      for (const message of good) {
        assert.deepEqual(parseJson(stored.get(message.id)!.body), message.body);
      }
      for (const test of cases) {
        if (!refused.has(test.id)) assertStored(stored.get(test.id), test);
      }
      assert.deepEqual(await singleTable.rows(), rows);
    },
  });
}

Deno.test("DbPublisher.publish() refuses a body over maxBodyBytes naming the message id", async () => {
  await using publisher = await createDbPublisher({
    url: "sqlite::memory:",
    maxBodyBytes: 16,
  }, { destination: "audit" });
  await assert.rejects(
    publisher.publish(createMessage({ id: "big-one", body: "x".repeat(20) })),
    (error: Error) =>
      isPermanentError(error) &&
      error.message ===
        `Cannot store message "big-one" in "audit": the body is 22 bytes, more than the limit of 16 bytes`,
  );
  await publisher.publish(createMessage({ id: "small", body: "x".repeat(14) }));
});

Deno.test("DbPublisher.publish() rejects with the signal's reason when aborted before it starts", async () => {
  await using publisher = await createDbPublisher({ url: "sqlite::memory:" });
  const reason = new Error("stop");
  await assert.rejects(
    publisher.publish(createMessage({ id: "m1", body: 1 }), {
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
  await assert.rejects(
    publisher.publishBatch([createMessage({ id: "m1", body: 1 })], {
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
});

Deno.test("DbPublisher.close() is harmless twice and refuses later writes", async () => {
  const publisher = await createDbPublisher({ url: "sqlite::memory:" });
  await publisher.publish(createMessage({ id: "m1", body: 1 }));
  await publisher.close();
  await publisher[Symbol.asyncDispose]();
  await assert.rejects(
    publisher.publish(createMessage({ id: "m2", body: 2 })),
    (error) => isClosedError(error),
  );
});

Deno.test("DbPublisher.publishBatch() keeps the first of two messages with one id", async () => {
  await using table = await databases[0]!.open();
  await using publisher = await table.publisher();
  const result = await publisher.publishBatch([
    createMessage({ id: "twice", body: "first", producedAt: BASE_TIME }),
    createMessage({ id: "twice", body: "second", producedAt: BASE_TIME }),
  ]);
  assert.equal(result.failures.size, 0);
  const rows = await table.rows();
  assert.deepEqual(rows.map((row) => row.body), ['"first"']);
});
