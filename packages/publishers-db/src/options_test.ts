import assert from "node:assert/strict";
import { validateWithSchema } from "@fanout/core";
import {
  dbOptionsSchema,
  isTableName,
  parseDbUrl,
  resolveDbOptions,
} from "./options.ts";

Deno.test("resolveDbOptions() fills in every default", () => {
  assert.deepEqual(resolveDbOptions({}), {
    url: "sqlite:./data/fanout.db",
    table: "fanout_messages",
    maxBodyBytes: 4 * 1024 * 1024,
    poolSize: 4,
    connectTimeoutMs: 10_000,
    applicationName: "fanout",
  });
});

Deno.test("resolveDbOptions() refuses a table that is not an SQL identifier", () => {
  for (
    const table of [
      "fanout-messages",
      "a.b.c",
      'x"; DROP TABLE users; --',
      "1table",
      "",
      "t".repeat(64),
      "tab le",
      "`t`",
    ]
  ) {
    assert.throws(
      () => resolveDbOptions({ table }),
      (error: Error) =>
        error instanceof TypeError &&
        error.message.startsWith(
          `Cannot create database publisher: option "table": table must be an SQL identifier`,
        ),
      table,
    );
  }
  assert.equal(
    resolveDbOptions({ table: "events.Fanout_2" }).table,
    "events.Fanout_2",
  );
});

Deno.test("resolveDbOptions() refuses unknown keys, bad numbers and bad URLs", () => {
  assert.throws(() => resolveDbOptions({ tabel: "x" }), TypeError);
  assert.throws(() => resolveDbOptions({ maxBodyBytes: 0 }), RangeError);
  assert.throws(() => resolveDbOptions({ poolSize: 1.5 }), TypeError);
  assert.throws(
    () => resolveDbOptions({ url: "redis://user:hunter2@127.0.0.1/0" }),
    (error: Error) =>
      error instanceof TypeError && error.message.includes('option "url"') &&
      !error.message.includes("hunter2"),
  );
  assert.throws(() => resolveDbOptions({ url: "sqlite:" }), /needs a path/);
});

Deno.test("dbOptionsSchema validates as a Standard Schema", async () => {
  const ok = await validateWithSchema(dbOptionsSchema, {
    url: "postgresql://u:p@127.0.0.1/test",
  });
  assert.ok(ok.ok);
  assert.equal(ok.value.table, "fanout_messages");
  const bad = await validateWithSchema(dbOptionsSchema, { table: "a-b" });
  assert.ok(!bad.ok);
  assert.equal(bad.issues[0]?.path, "table");
});

Deno.test("isTableName() allows one schema dot and nothing else", () => {
  assert.ok(isTableName("_t"));
  assert.ok(isTableName("public.t1"));
  assert.ok(!isTableName("public..t1"));
  assert.ok(!isTableName("t."));
});

Deno.test("parseDbUrl() masks the password in every form it can appear", () => {
  const target = parseDbUrl("mysql://app:p%40ss%3Aword@127.0.0.1:3306/test");
  assert.equal(target.kind, "mysql");
  assert.equal(target.safeUrl, "mysql://app:***@127.0.0.1:3306/test");
  assert.equal(
    target.redact("raw p%40ss%3Aword decoded p@ss:word"),
    "raw *** decoded ***",
  );
  assert.equal(
    parseDbUrl("postgres://127.0.0.1/test").safeUrl,
    "postgres://127.0.0.1/test",
  );
  assert.equal(parseDbUrl("sqlite::memory:").path, ":memory:");
});

Deno.test("parseDbUrl() masks credentials given as query parameters", () => {
  const target = parseDbUrl(
    "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&password=hunter2q&sslpassword=k%2Fy&Token=t0k3n&application_name=w",
  );
  assert.equal(
    target.safeUrl,
    "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&password=***&sslpassword=***&Token=***&application_name=w",
  );
  assert.equal(
    target.redact("hunter2q k/y k%2Fy t0k3n"),
    "*** *** *** ***",
  );
  for (const name of ["pass", "pwd", "secret", "key", "api_key", "PASSWD"]) {
    const url = `mysql://app@127.0.0.1/test?${name}=s3cr3tv4lue`;
    const masked = parseDbUrl(url);
    assert.equal(masked.safeUrl, `mysql://app@127.0.0.1/test?${name}=***`);
    assert.ok(!masked.redact(`bad s3cr3tv4lue`).includes("s3cr3tv4lue"));
  }
  const both = parseDbUrl("mysql://app:a1b2c3@127.0.0.1/test?password=d4e5f6");
  assert.equal(both.safeUrl, "mysql://app:***@127.0.0.1/test?password=***");
});

Deno.test("dbOptionsSchema accepts numbers given as strings, as after ${VAR} substitution", async () => {
  const result = await validateWithSchema(dbOptionsSchema, {
    url: "sqlite::memory:",
    poolSize: "6",
    connectTimeoutMs: " 2500 ",
    maxBodyBytes: "1024",
  });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.value.poolSize, 6);
  assert.equal(result.value.connectTimeoutMs, 2500);
  assert.equal(result.value.maxBodyBytes, 1024);
  const bad = await validateWithSchema(dbOptionsSchema, { poolSize: "six" });
  assert.ok(!bad.ok);
  assert.equal(bad.issues[0]?.path, "poolSize");
});
