import assert from "node:assert/strict";
import postgres from "postgres";
import {
  createMessage,
  describeError,
  FanOutPublisher,
  isPermanentError,
  type Message,
} from "@fanout/core";
import { PG_URL, postgresql, recordingLogger } from "./_test_support.ts";
import { createDbPublisher } from "./db_publisher.ts";

const SECRET = "Sup3r-S3cret_pw";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries a write the way the fan-out does: until it lands, never for good errors. */
async function untilStored(
  write: () => Promise<unknown>,
  onRetry: (error: unknown) => void,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      assert.equal(isPermanentError(error), false, describeError(error));
      if (attempt >= 50) throw error;
      onRetry(error);
      await delay(20);
    }
  }
}

Deno.test({
  name:
    "DbPublisher.publishBatch() stores every message exactly once while PostgreSQL connections are killed",
  ignore: postgresql.ignore,
  async fn() {
    await using table = await postgresql.open();
    const applicationName = `fanout-kill-${table.table}`;
    await using publisher = await table.publisher({
      applicationName,
      poolSize: 3,
    });
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });

    const messages: Message[] = Array.from(
      { length: 600 },
      (_, i) =>
        createMessage({ id: `kill-${i}`, body: { i, pad: "p".repeat(200) } }),
    );
    let retries = 0;
    let killed = 0;
    let done = false;

    const killer = (async () => {
      await delay(30);
      while (!done) {
        const rows = await admin.unsafe(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE application_name = $1`,
          [applicationName],
        );
        killed += rows.filter((row) => row.ok === true).length;
        await delay(25);
      }
    })();

    const lanes = [0, 1, 2].map(async (lane) => {
      for (let i = lane * 10; i < messages.length; i += 30) {
        const batch = messages.slice(i, i + 10);
        if (lane === 0) {
          for (const message of batch) {
            await untilStored(
              () => publisher.publish(message),
              () => retries++,
            );
          }
        } else {
          await untilStored(async () => {
            const result = await publisher.publishBatch(batch);
            assert.equal(result.failures.size, 0);
          }, () => retries++);
        }
      }
    });
    try {
      await Promise.all(lanes);
    } finally {
      done = true;
      await killer;
    }

    try {
      assert.ok(killed > 0, "no connection was terminated");
      const rows = await table.rows();
      assert.equal(rows.length, messages.length);
      assert.deepEqual(
        rows.map((row) => row.id).sort(),
        messages.map((m) => m.id).sort(),
      );
      assert.ok(retries > 0, "no write failed while connections were killed");
    } finally {
      await admin.end();
    }
  },
});

Deno.test("DbPublisher.publish() to an unreachable PostgreSQL fails with a retryable error that hides the password", async () => {
  const logger = recordingLogger();
  await using publisher = await createDbPublisher({
    url: `postgres://fanout:${SECRET}@127.0.0.1:1/test`,
    connectTimeoutMs: 2000,
  }, { logger, destination: "pg" });
  assert.equal(publisher.safeUrl, "postgres://fanout:***@127.0.0.1:1/test");

  const message = createMessage({ id: "m1", body: { a: 1 } });
  for (
    const attempt of [
      () => publisher.publish(message),
      () => publisher.publishBatch([message]),
    ]
  ) {
    const error = await attempt().then(
      () => assert.fail("the write succeeded"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof Error);
    assert.equal(isPermanentError(error), false, describeError(error));
    assert.match(error.message, /^Cannot store message "m1" in "pg" at /);
    assert.ok(!describeError(error).includes(SECRET), error.message);
    assert.ok(!describeError(error.cause).includes(SECRET));
  }
  assert.ok(!logger.lines.join("\n").includes(SECRET));
});

Deno.test({
  name:
    "DbPublisher.publish() recreates its PostgreSQL table when it is dropped",
  ignore: postgresql.ignore,
  async fn() {
    await using table = await postgresql.open();
    await using publisher = await table.publisher();
    await publisher.publish(createMessage({ id: "before", body: 1 }));

    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`DROP TABLE "${table.table}"`);
    } finally {
      await admin.end();
    }
    const after = createMessage({ id: "after", body: 2 });
    const error = await publisher.publish(after).catch((e: unknown) => e);
    assert.ok(error instanceof Error);
    assert.equal(isPermanentError(error), false);
    await publisher.publish(after);
    assert.deepEqual((await table.rows()).map((row) => row.id), ["after"]);
  },
});

Deno.test({
  name:
    "DbPublisher.publish() stops a statement blocked on PostgreSQL when its signal aborts",
  ignore: postgresql.ignore,
  async fn() {
    await using table = await postgresql.open();
    await using publisher = await table.publisher();
    await publisher.publish(createMessage({ id: "first", body: 1 }));

    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      let release = () => {};
      const released = new Promise<void>((resolve) => release = resolve);
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => locked = resolve);
      const holder = admin.begin(async (tx) => {
        await tx.unsafe(`LOCK TABLE "${table.table}" IN ACCESS EXCLUSIVE MODE`);
        locked();
        await released;
      });
      await isLocked;

      const controller = new AbortController();
      const reason = new Error("attempt timed out");
      const blocked = publisher.publish(
        createMessage({ id: "blocked", body: 2 }),
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(reason), 100);
      await assert.rejects(blocked, (error) => error === reason);
      release();
      await holder;

      await publisher.publish(createMessage({ id: "blocked", body: 2 }));
      assert.deepEqual((await table.rows()).map((row) => row.id).sort(), [
        "blocked",
        "first",
      ]);
    } finally {
      await admin.end();
    }
  },
});

Deno.test({
  name:
    "DbPublisher.publishBatch() survives PostgreSQL connections killed during fan-out batches larger than one statement",
  ignore: postgresql.ignore,
  async fn() {
    await using table = await postgresql.open();
    const applicationName = `fanout-crash-${table.table}`;
    const publisher = await table.publisher({ applicationName, poolSize: 4 });
    const fanOut = new FanOutPublisher([{
      name: "db",
      publisher,
      policy: {
        batchSize: 800,
        lingerMs: 10,
        bufferSize: 4000,
        timeoutMs: 5000,
        maxAttempts: 100,
        backoffMs: 10,
        maxBackoffMs: 100,
      },
    }]);
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    let killed = 0;
    let done = false;
    const killer = (async () => {
      while (!done) {
        await delay(100);
        const rows = await admin.unsafe(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE application_name = $1`,
          [applicationName],
        );
        killed += rows.filter((row) => row.ok === true).length;
      }
    })();

    const pad = "b".repeat(2000);
    try {
      for (let round = 0; round < 2; round++) {
        const reports = await Promise.all(
          Array.from(
            { length: 2000 },
            (_, i) =>
              fanOut.deliver(
                createMessage({ id: `crash-${round}-${i}`, body: { i, pad } }),
              ),
          ),
        );
        assert.equal(reports.filter((report) => !report.ok).length, 0);
      }
    } finally {
      done = true;
      await killer;
      await fanOut.close();
      await publisher.close();
      await admin.end();
    }
    assert.ok(killed > 0, "no connection was terminated");
    assert.equal(await table.count(), 4000);
  },
});

Deno.test({
  name:
    "DbPublisher.publishBatch() fails fast, and the next write succeeds, when its only PostgreSQL backend is terminated mid-write",
  ignore: postgresql.ignore,
  async fn() {
    await using table = await postgresql.open();
    const applicationName = `fanout-hang-${table.table}`;
    const publisher = await table.publisher({ applicationName, poolSize: 1 });
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const kill = () =>
      admin.unsafe(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1`,
        [applicationName],
      );
    const pad = "h".repeat(2000);
    let failed = 0;
    try {
      for (let round = 0; round < 30; round++) {
        const batch = Array.from(
          { length: 400 },
          (_, i) =>
            createMessage({ id: `hang-${round}-${i}`, body: { i, pad } }),
        );
        const started = performance.now();
        const outcome = publisher.publishBatch(batch, {
          signal: AbortSignal.timeout(3000),
        }).then(() => undefined, (error: unknown) => error);
        await delay(3);
        await kill();
        const error = await outcome;
        const elapsed = performance.now() - started;
        if (error !== undefined) {
          failed++;
          assert.ok(error instanceof Error);
          assert.notEqual(error.name, "TimeoutError", `round ${round} hung`);
          assert.equal(isPermanentError(error), false, describeError(error));
        }
        assert.ok(elapsed < 2000, `round ${round} took ${elapsed} ms`);

        const next = performance.now();
        await publisher.publish(
          createMessage({ id: `after-${round}`, body: round }),
          { signal: AbortSignal.timeout(3000) },
        );
        assert.ok(performance.now() - next < 2000);
      }
      assert.ok(failed > 0, "no write was interrupted");
    } finally {
      await admin.end();
    }
    const closing = performance.now();
    await publisher.close();
    assert.ok(performance.now() - closing < 5000);
  },
});

Deno.test("DbPublisher.publish() hides a password given in the PostgreSQL URL's query string", async () => {
  const logger = recordingLogger();
  await using publisher = await createDbPublisher({
    url:
      `postgres://fanout@127.0.0.1:1/test?sslmode=disable&password=${SECRET}`,
    connectTimeoutMs: 2000,
  }, { logger, destination: "pg" });
  assert.equal(
    publisher.safeUrl,
    "postgres://fanout@127.0.0.1:1/test?sslmode=disable&password=***",
  );
  const error = await publisher.publish(createMessage({ id: "q", body: 1 }))
    .then(() => assert.fail("the write succeeded"), (error: unknown) => error);
  assert.ok(error instanceof Error);
  assert.equal(isPermanentError(error), false);
  assert.ok(!describeError(error).includes(SECRET), error.message);
  assert.ok(!describeError(error.cause).includes(SECRET));
  assert.ok(logger.lines.length > 0);
  assert.ok(!logger.lines.join("\n").includes(SECRET));
});
