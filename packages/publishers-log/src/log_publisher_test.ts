import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createMessage,
  isClosedError,
  isPermanentError,
  type Message,
} from "@fanout/core";
import {
  controlledStream,
  settlesWithin,
  unsafeChars,
} from "../testdata/helpers.ts";
import { createLogPublisher } from "./log_publisher.ts";

function message(index: number, body: Record<string, string> = {}): Message {
  return createMessage({
    id: `m${String(index).padStart(3, "0")}`,
    type: "test",
    body: { n: String(index).padStart(3, "0"), ...body },
  });
}

function ids(text: string): string[] {
  return text.split("\n").filter(Boolean).map((line) => line.split(" ")[2]!);
}

Deno.test("createLogPublisher() accepts lines while the writer stalls, then waits when the buffer is full", async () => {
  const writer = controlledStream();
  const log = await createLogPublisher({ bufferBytes: 1000 }, {
    writer: writer.stream,
  });

  let accepted = 0;
  let blocked: Promise<void> | undefined;
  while (accepted < 100) {
    const publishing = log.publish(message(accepted));
    if (!await settlesWithin(publishing, 100)) {
      blocked = publishing;
      break;
    }
    await publishing;
    accepted++;
  }

  assert.ok(blocked, "publish never waited");
  assert.ok(accepted >= 5, `only ${accepted} lines fit`);
  const lineBytes = log.bufferedBytes / accepted;
  assert.ok(log.bufferedBytes <= 1000);
  assert.ok(log.bufferedBytes + lineBytes > 1000);
  assert.equal(writer.text(), "");
  assert.ok(!await settlesWithin(blocked, 50), "publish stopped waiting");

  writer.release();
  await blocked;
  await log.close();

  const expected = Array.from(
    { length: accepted + 1 },
    (_, i) => message(i).id,
  );
  assert.deepEqual(ids(writer.text()), expected);
  assert.equal(log.bufferedBytes, 0);
});

Deno.test("createLogPublisher() lets an abort signal cancel the wait for room", async () => {
  const writer = controlledStream();
  const log = await createLogPublisher({ bufferBytes: 100 }, {
    writer: writer.stream,
  });
  await log.publish(message(0));

  const controller = new AbortController();
  const waiting = log.publish(message(1), { signal: controller.signal });
  const queued = log.publish(message(2));
  assert.ok(!await settlesWithin(waiting, 30));
  const reason = new Error("attempt timed out");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);

  const early = new AbortController();
  early.abort(new Error("already gone"));
  await assert.rejects(
    log.publish(message(3), { signal: early.signal }),
    /already gone/,
  );

  writer.release();
  await queued;
  await log.close();
  assert.deepEqual(ids(writer.text()), ["m000", "m002"]);
});

Deno.test("createLogPublisher() with a stalled writer does not slow another log publisher", async () => {
  const stalled = controlledStream();
  const healthy = controlledStream(false);
  const slow = await createLogPublisher({ bufferBytes: 100 }, {
    writer: stalled.stream,
  });
  const fast = await createLogPublisher({ bufferBytes: 100 }, {
    writer: healthy.stream,
  });

  await slow.publish(message(0));
  const blocked = slow.publish(message(1));
  for (let i = 0; i < 20; i++) {
    assert.ok(await settlesWithin(fast.publish(message(i)), 1000));
  }
  await fast.close();

  assert.equal(ids(healthy.text()).length, 20);
  assert.ok(!await settlesWithin(blocked, 10));
  stalled.release();
  await blocked;
  await slow.close();
  assert.deepEqual(ids(stalled.text()), ["m000", "m001"]);
});

Deno.test("createLogPublisher() flushes every accepted line on close, and closes once", async () => {
  const writer = controlledStream();
  const log = await createLogPublisher({ format: "json" }, {
    writer: writer.stream,
  });
  for (let i = 0; i < 50; i++) await log.publish(message(i));
  assert.ok(log.bufferedBytes > 0);

  const closing = log.close();
  assert.equal(log.close(), closing);
  await assert.rejects(log.publish(message(99)), isClosedError);
  assert.ok(!await settlesWithin(closing, 30), "close did not wait");
  writer.release();
  await closing;
  await log[Symbol.asyncDispose]();

  const lines = writer.text().split("\n").filter(Boolean);
  assert.deepEqual(
    lines.map((line) => JSON.parse(line).id),
    Array.from({ length: 50 }, (_, i) => message(i).id),
  );
  // The lock is released, so the caller can use the stream again.
  const again = writer.stream.getWriter();
  again.releaseLock();
});

Deno.test("createLogPublisher() writes a batch in order and reports the messages it refuses", async () => {
  const writer = controlledStream(false);
  await using log = await createLogPublisher({}, { writer: writer.stream });

  const bad = createMessage({ id: "bad", body: { n: 1n } as never });
  const batch = [message(0), message(1), bad, message(2)];
  const result = await log.publishBatch(batch);

  assert.ok(result);
  assert.deepEqual([...result.failures.keys()], ["bad"]);
  assert.ok(isPermanentError(result.failures.get("bad")));
  assert.equal(await log.publishBatch([message(3)]), undefined);
  await log.close();
  assert.deepEqual(ids(writer.text()), ["m000", "m001", "m002", "m003"]);
});

Deno.test("createLogPublisher() reports the rest of a batch as failed when its signal aborts midway", async () => {
  const writer = controlledStream();
  const log = await createLogPublisher({ bufferBytes: 200 }, {
    writer: writer.stream,
  });
  const controller = new AbortController();
  const batch = Array.from({ length: 10 }, (_, i) => message(i));

  const publishing = log.publishBatch(batch, { signal: controller.signal });
  assert.ok(!await settlesWithin(publishing, 30));
  controller.abort(new Error("deadline"));
  const result = await publishing;

  assert.ok(result);
  const written = await (async () => {
    writer.release();
    await log.close();
    return ids(writer.text());
  })();
  assert.ok(written.length >= 1 && written.length < 10);
  assert.deepEqual(
    [...result.failures.keys()],
    batch.slice(written.length).map((m) => m.id),
  );
  assert.deepEqual(written, batch.slice(0, written.length).map((m) => m.id));
});

Deno.test("createLogPublisher() refuses new messages after a write fails and says so on close", async () => {
  const failure = new Error("device gone");
  const stream = new WritableStream<Uint8Array>({
    write: () => Promise.reject(failure),
  });
  const records: [string, Record<string, unknown> | undefined][] = [];
  const record = (text: string, fields?: Record<string, unknown>) =>
    void records.push([text, fields]);
  const logger = { debug: record, info: record, warn: record, error: record };
  const log = await createLogPublisher({}, { writer: stream, logger });

  await log.publish(message(0));
  await log.publish(message(1));
  await assert.rejects(log.close(), (error: Error) => {
    assert.match(error.message, /^Cannot close log destination "log"/);
    assert.equal(error.cause, failure);
    return true;
  });
  assert.equal(records.length, 1);
  assert.equal(records[0]?.[1]?.lostLines, 2);
  assert.equal(records[0]?.[1]?.error, failure);

  const other = await createLogPublisher({}, {
    writer: new WritableStream({ write: () => Promise.reject(failure) }),
  });
  await other.publish(message(0));
  await assert.rejects(
    (async () => {
      // Publishing continues until the failure is seen, then stops.
      for (let i = 1; i < 1000; i++) {
        await other.publish(message(i));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    })(),
    (error: Error) => error.cause === failure,
  );
  await assert.rejects(other.close());
});

Deno.test("createLogPublisher() writes a file relative to baseDir and creates its directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = await createLogPublisher(
      { target: "file", path: "nested/deeper/app.log", format: "json" },
      { baseDir: dir, destination: "audit" },
    );
    await log.publish(message(1, { password: "x" }));
    await log.publishBatch([message(2), message(3)]);
    await log.close();

    const text = await Deno.readTextFile(join(dir, "nested/deeper/app.log"));
    const records = text.trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(records.map((r) => r.id), ["m001", "m002", "m003"]);
    assert.equal(records[0].destination, "audit");

    // A second publisher appends instead of truncating.
    const again = await createLogPublisher(
      { target: "file", path: join(dir, "nested/deeper/app.log") },
    );
    await again.publish(message(4));
    await again.close();
    const lines = (await Deno.readTextFile(join(dir, "nested/deeper/app.log")))
      .trimEnd().split("\n");
    assert.equal(lines.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogPublisher() fails clearly when the log file cannot be opened", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "blocker"), "a file, not a directory");
    await assert.rejects(
      createLogPublisher(
        { target: "file", path: "blocker/app.log" },
        { baseDir: dir },
      ),
      (error: Error) => {
        assert.match(
          error.message,
          /^Cannot open log file ".*app\.log": (ENOTDIR|EEXIST|NotADirectory|AlreadyExists)$/,
        );
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogPublisher() rotates the file and keeps at most maxFiles old files", async () => {
  const dir = await Deno.makeTempDir();
  const maxFileBytes = 1000;
  const maxFiles = 2;
  const total = 60;
  try {
    const log = await createLogPublisher(
      { target: "file", path: "app.log", maxFileBytes, maxFiles },
      { baseDir: dir },
    );
    for (let i = 0; i < total; i++) await log.publish(message(i));
    await log.close();

    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["app.log", "app.log.1", "app.log.2"]);

    const read = (name: string) =>
      Deno.readTextFileSync(join(dir, name)).split("\n").filter(Boolean);
    const files = ["app.log.2", "app.log.1", "app.log"].map(read);
    const lineBytes = new TextEncoder().encode(`${files[0]![0]}\n`).length;
    const perFile = Math.floor(maxFileBytes / lineBytes);
    const rest = total - perFile * (Math.ceil(total / perFile) - 1);
    assert.ok(Math.ceil(total / perFile) - 1 > maxFiles, "nothing was removed");

    assert.deepEqual(files.map((lines) => lines.length), [
      perFile,
      perFile,
      rest,
    ]);
    const kept = files.flat().map((line) => line.split(" ")[2]);
    const firstKept = total - kept.length;
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => message(firstKept + i).id),
    );
    for (const name of names) {
      assert.ok(Deno.statSync(join(dir, name)).size <= maxFileBytes, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogPublisher() with maxFiles 0 starts the file over when it is full", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "app.log"), "x".repeat(990) + "\n");
    const log = await createLogPublisher(
      { target: "file", path: "app.log", maxFileBytes: 1000, maxFiles: 0 },
      { baseDir: dir },
    );
    await log.publish(message(1));
    await log.close();

    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["app.log"]);
    assert.deepEqual(ids(await Deno.readTextFile(join(dir, "app.log"))), [
      "m001",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const target of ["stdout", "stderr"] as const) {
  for (const format of ["pretty", "json"] as const) {
    Deno.test(`createLogPublisher() writes hostile content to ${target} through a pipe as ${format}, one line each`, async () => {
      const script = fileURLToPath(
        new URL("../testdata/emit_lines.ts", import.meta.url),
      );
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-env", script, target, format],
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const bytes = target === "stdout" ? output.stdout : output.stderr;
      const text = new TextDecoder().decode(bytes);

      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      assert.ok(!bytes.includes(0x1b), "raw escape byte");
      assert.ok(!bytes.includes(0x0d), "raw carriage return");
      const lines = text.split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, 3);
      for (const [i, line] of lines.entries()) {
        assert.deepEqual(unsafeChars(line), []);
        assert.ok(line.includes('"n":12345678901234567890'), line);
        if (format === "json") {
          const record = JSON.parse(line);
          assert.equal(record.id, `m${i}`);
          assert.equal(record.body.s, "a\nb\rc\u001b[31mred\u009b2J\u2028");
        } else {
          assert.equal(line.split(" ")[2], `m${i}`);
        }
      }
    });
  }
}

Deno.test("createLogPublisher() on a stdout pipe nobody reads blocks only its own publish", async () => {
  const script = fileURLToPath(
    new URL("../testdata/stall_stdout.ts", import.meta.url),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", script],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  // Stdout stays unread until the child has reported from inside the stall.
  const decoder = new TextDecoder();
  const stderr = child.stderr.getReader();
  let reportText = "";
  while (!reportText.includes("\n")) {
    const { value, done } = await stderr.read();
    if (done) break;
    reportText += decoder.decode(value, { stream: true });
  }
  const [stdout] = await Promise.all([
    new Response(child.stdout).text(),
    (async () => {
      while (!(await stderr.read()).done);
    })(),
  ]);
  const status = await child.status;

  assert.equal(status.code, 0, reportText);
  const report = JSON.parse(reportText);
  assert.equal(report.blocked, true);
  assert.ok(report.accepted >= 1);
  assert.ok(report.ticksWhileBlocked >= 5, reportText);
  assert.equal(report.healthyLines, 50);
  const written = ids(stdout);
  assert.deepEqual(
    written,
    Array.from({ length: report.accepted + 1 }, (_, i) => `s${i}`),
  );
});
