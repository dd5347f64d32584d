import assert from "node:assert/strict";
import { createMessage, describeError, isPermanentError } from "@fanout/core";
import mysql from "mysql2/promise";
import { mariadb, MARIADB_URL, recordingLogger } from "./_test_support.ts";
import { createDbPublisher } from "./db_publisher.ts";

const SECRET = "Maria-S3cret_pw";

Deno.test("DbPublisher.publish() to an unreachable MariaDB fails with a retryable error that hides the password", async () => {
  const logger = recordingLogger();
  await using publisher = await createDbPublisher({
    url: `mariadb://fanout:${SECRET}@127.0.0.1:1/test`,
    connectTimeoutMs: 2000,
  }, { logger, destination: "maria" });
  assert.equal(publisher.safeUrl, "mariadb://fanout:***@127.0.0.1:1/test");

  const error = await publisher.publish(createMessage({ id: "m1", body: 1 }))
    .then(() => assert.fail("the write succeeded"), (e: unknown) => e);
  assert.ok(error instanceof Error);
  assert.equal(isPermanentError(error), false);
  assert.match(error.message, /^Cannot store message "m1" in "maria" at /);
  assert.ok(!describeError(error).includes(SECRET), error.message);
  assert.ok(!describeError(error.cause).includes(SECRET));
  assert.ok(!logger.lines.join("\n").includes(SECRET));
});

Deno.test({
  name:
    "DbPublisher.publish() refuses an id longer than 255 characters on MariaDB as on the others",
  ignore: mariadb.ignore,
  async fn() {
    await using table = await mariadb.open();
    await using publisher = await table.publisher();
    const id = "i".repeat(256);
    await assert.rejects(
      publisher.publish(createMessage({ id, body: 1 })),
      (error) => isPermanentError(error),
    );
    await publisher.publish(createMessage({ id: "i".repeat(255), body: 1 }));
    assert.equal(await table.count(), 1);
  },
});

Deno.test({
  name:
    "DbPublisher.publish() keeps ids that differ only in case or trailing spaces apart on MariaDB",
  ignore: mariadb.ignore,
  async fn() {
    await using table = await mariadb.open();
    await using publisher = await table.publisher();
    for (const id of ["abc", "ABC", "abc ", "äbc"]) {
      await publisher.publish(createMessage({ id, body: id }));
    }
    const rows = await table.rows();
    assert.deepEqual(rows.map((row) => row.id).sort(), [
      "ABC",
      "abc",
      "abc ",
      "äbc",
    ]);
  },
});

Deno.test({
  name:
    "DbPublisher.publishBatch() refuses alone a body larger than MariaDB's max_allowed_packet",
  ignore: mariadb.ignore,
  async fn() {
    const admin = await mysql.createConnection({ uri: MARIADB_URL });
    const [info] = await admin.query(
      "SELECT @@max_allowed_packet AS packet",
    ) as unknown as [{ packet: number }[]];
    await admin.end();
    const packet = Number(info[0]?.packet);
    assert.ok(packet > 0 && packet <= 64 * 1024 * 1024, `packet ${packet}`);

    await using table = await mariadb.open();
    await using publisher = await table.publisher({
      maxBodyBytes: packet * 2,
    });
    const result = await publisher.publishBatch([
      createMessage({ id: "a", body: 1 }),
      createMessage({ id: "huge", body: "x".repeat(packet + 1) }),
      createMessage({ id: "b", body: 2 }),
    ]);
    assert.deepEqual([...result.failures.keys()], ["huge"]);
    const failure = result.failures.get("huge");
    assert.ok(isPermanentError(failure));
    assert.match(
      failure.message,
      /^Cannot store message "huge" in ".*": .*max_allowed_packet/,
    );
    assert.deepEqual((await table.rows()).map((row) => row.id), ["a", "b"]);
  },
});

Deno.test({
  name:
    "DbPublisher.publishBatch() stores every message exactly once while MariaDB connections are killed",
  ignore: mariadb.ignore,
  async fn() {
    // A user of its own, so that only this publisher's connections are killed.
    const user = `fanout_k_${crypto.randomUUID().slice(0, 8)}`;
    const admin = await mysql.createConnection({ uri: MARIADB_URL });
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'k1ll-me'`);
    await admin.query(`GRANT ALL ON test.* TO '${user}'@'%'`);
    try {
      await using table = await mariadb.open();
      await using publisher = await table.publisher({
        url: `mysql://${user}:k1ll-me@127.0.0.1:3306/test`,
        poolSize: 3,
      });
      const messages = Array.from(
        { length: 300 },
        (_, i) => createMessage({ id: `kill-${i}`, body: { i } }),
      );
      let killed = 0;
      let retries = 0;
      let done = false;

      const killer = (async () => {
        while (!done) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          const [rows] = await admin.query(
            "SELECT id FROM information_schema.processlist WHERE user = ?",
            [user],
          ) as unknown as [{ id: number }[]];
          for (const row of rows) {
            await admin.query(`KILL CONNECTION ${Number(row.id)}`).then(
              () => killed++,
              () => {}, // It ended on its own in the meantime.
            );
          }
        }
      })();
      try {
        await Promise.all([0, 1, 2].map(async (lane) => {
          for (let i = lane * 10; i < messages.length; i += 30) {
            const batch = messages.slice(i, i + 10);
            await new Promise((resolve) => setTimeout(resolve, 3));
            for (let attempt = 1;; attempt++) {
              try {
                const result = await publisher.publishBatch(batch);
                assert.equal(result.failures.size, 0);
                break;
              } catch (error) {
                assert.equal(isPermanentError(error), false);
                if (attempt >= 50) throw error;
                retries++;
                await new Promise((resolve) => setTimeout(resolve, 20));
              }
            }
          }
        }));
      } finally {
        done = true;
        await killer;
      }

      assert.ok(killed > 0, "no connection was killed");
      assert.ok(retries > 0, "no write failed while connections were killed");
      assert.deepEqual(
        (await table.rows()).map((row) => row.id).sort(),
        messages.map((m) => m.id).sort(),
      );
    } finally {
      await admin.query(`DROP USER '${user}'@'%'`);
      await admin.end();
    }
  },
});
