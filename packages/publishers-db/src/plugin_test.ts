import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  createMessage,
  EventHub,
  isPublisher,
  isPublisherPlugin,
  loadPublishers,
  parseConfig,
  validateWithSchema,
} from "@fanout/core";
import { dbPlugin } from "./plugin.ts";
import { recordingLogger } from "./_test_support.ts";

Deno.test("dbPlugin stores messages by default in SQLite at ./data/fanout.db beside the configuration", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "fanout_db_plugin_" });
  try {
    assert.ok(isPublisherPlugin(dbPlugin));
    const checked = await validateWithSchema(dbPlugin.options, {});
    assert.ok(checked.ok);
    assert.equal(checked.value.url, "sqlite:./data/fanout.db");

    const publisher = await dbPlugin.create(checked.value, {
      destination: "db",
      logger: recordingLogger(),
      signal: new AbortController().signal,
      events: new EventHub(),
      baseDir,
    });
    assert.ok(isPublisher(publisher));
    await publisher.publish(createMessage({ id: "demo-1", body: { hi: 1 } }));
    await publisher.close?.();

    const db = new DatabaseSync(join(baseDir, "data", "fanout.db"));
    try {
      const mode = db.prepare("PRAGMA journal_mode").get() as {
        journal_mode: string;
      };
      assert.equal(mode.journal_mode, "wal");
      const rows = db.prepare("SELECT id, body FROM fanout_messages").all();
      assert.deepEqual(rows.map((row) => ({ ...row })), [
        { id: "demo-1", body: '{"hi":1}' },
      ]);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(baseDir, { recursive: true });
  }
});

Deno.test("dbPlugin refuses a table name that is not an SQL identifier before any message", async () => {
  const checked = await validateWithSchema(dbPlugin.options, {
    table: "messages; DROP TABLE users",
  });
  assert.ok(!checked.ok);
  assert.equal(checked.issues[0]?.path, "table");
  assert.match(checked.issues[0]?.message ?? "", /must be an SQL identifier/);
});

Deno.test("dbPlugin loads from a configuration entry with a ${VAR} taken from the environment", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "fanout_db_config_" });
  try {
    const config = parseConfig(
      [
        "publishers:",
        "  - name: db",
        '    use: "@fanout/publishers-db"',
        '    options: { url: "sqlite:./${DB_DIR}/fanout.db", table: "events" }',
        "    policy: { timeoutMs: 2000, maxAttempts: 5, batchSize: 100, lingerMs: 20, required: true }",
      ].join("\n"),
      join(baseDir, "fanout.yaml"),
      { env: (name) => (name === "DB_DIR" ? "store" : undefined) },
    );
    const [destination] = await loadPublishers(config, {
      importModule: (specifier) =>
        specifier === "@fanout/publishers-db"
          ? import("../mod.ts")
          : import(specifier),
      events: new EventHub(),
    });
    assert.ok(destination);
    await destination.publisher.publishBatch?.([
      createMessage({ id: "c1", body: "from config" }),
    ]);
    await destination.publisher.close?.();

    const db = new DatabaseSync(join(baseDir, "store", "fanout.db"));
    try {
      const row = db.prepare("SELECT body FROM events").get() as {
        body: string;
      };
      assert.equal(row.body, '"from config"');
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(baseDir, { recursive: true });
  }
});
