import assert from "node:assert/strict";
import { createMessage, describeError, isPermanentError } from "@fanout/core";
import { mariadb, recordingLogger } from "./_test_support.ts";
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
