import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createMessage,
  EventHub,
  isPublisher,
  isPublisherPlugin,
  validateWithSchema,
} from "@fanout/core";
import { getLogger } from "@logtape/logtape";
import plugin from "./plugin.ts";
import { resolveLogOptions } from "./options.ts";

Deno.test("logPlugin fills in every default and declares batching", async () => {
  const result = await validateWithSchema(plugin.options, {});

  assert.ok(isPublisherPlugin(plugin));
  assert.equal(plugin.name, "log");
  assert.deepEqual(plugin.capabilities, { batch: true });
  assert.deepEqual(result, {
    ok: true,
    value: {
      target: "stdout",
      format: "pretty",
      redact: [],
      maxLineBytes: 65536,
      maxFileBytes: 10485760,
      maxFiles: 5,
      bufferBytes: 1048576,
    },
  });
});

Deno.test("logPlugin refuses unknown keys, a missing or misplaced path and bad redact paths", async () => {
  const cases: [unknown, string][] = [
    [{ colour: true }, ""],
    [{ target: "file" }, "path"],
    [{ target: "stderr", path: "a.log" }, "path"],
    [{ redact: ["body.ok", "password"] }, "redact[1]"],
    [{ maxLineBytes: 10 }, "maxLineBytes"],
    [{ maxFiles: -1 }, "maxFiles"],
    [{ format: "xml" }, "format"],
  ];

  for (const [options, path] of cases) {
    const result = await validateWithSchema(plugin.options, options);
    assert.equal(result.ok, false, JSON.stringify(options));
    if (!result.ok) {
      assert.equal(result.issues[0]?.path, path, JSON.stringify(result));
    }
  }
});

Deno.test("logPlugin creates a file publisher under the context's base directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const checked = await validateWithSchema(plugin.options, {
      target: "file",
      path: "logs/app.log",
      format: "json",
      redact: ["headers.authorization"],
    });
    assert.ok(checked.ok);
    const publisher = await plugin.create(checked.value, {
      destination: "audit",
      logger: getLogger(["fanout", "publishers", "log"]),
      signal: new AbortController().signal,
      events: new EventHub(),
      baseDir: dir,
    });
    assert.ok(isPublisher(publisher));

    await publisher.publish(createMessage({
      id: "p1",
      headers: { Authorization: "secret" },
      body: null,
    }));
    await publisher.close?.();

    const record = JSON.parse(
      await Deno.readTextFile(join(dir, "logs/app.log")),
    );
    assert.equal(record.destination, "audit");
    assert.equal(record.headers.Authorization, "[REDACTED]");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveLogOptions() throws RangeError for sizes out of range and TypeError otherwise", () => {
  assert.throws(
    () => resolveLogOptions({ bufferBytes: 0 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message.startsWith("Cannot create log publisher: bufferBytes: "),
  );
  assert.throws(() => resolveLogOptions({ target: "printer" }), TypeError);
  assert.throws(() => resolveLogOptions({ extra: 1 }), TypeError);
  assert.equal(resolveLogOptions(undefined).target, "stdout");
  assert.equal(
    resolveLogOptions({ target: "file", path: "a.log" }).path,
    "a.log",
  );
});

Deno.test("logPlugin accepts sizes given as strings, as after ${VAR} substitution", async () => {
  const result = await validateWithSchema(plugin.options, {
    maxLineBytes: "4096",
    maxFileBytes: "1048576",
    maxFiles: "0",
    bufferBytes: "65536",
  });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.value.maxLineBytes, 4096);
  assert.equal(result.value.maxFiles, 0);
  const bad = await validateWithSchema(plugin.options, { maxFiles: "1e3" });
  assert.ok(!bad.ok);
  assert.equal(bad.issues[0]?.path, "maxFiles");
});
