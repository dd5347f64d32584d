import assert from "node:assert/strict";
import { join } from "node:path";
import { isConfigError } from "./errors.ts";
import { isPluginLoadError } from "./errors.ts";
import { loadConfig, parseConfig } from "./config.ts";
import { loadPublishers } from "./loader.ts";
import { EventHub } from "./events.ts";
import { closePublisher } from "./publisher.ts";

const testdata = join(import.meta.dirname!, "../testdata");
const file = join(testdata, "fanout.yaml");
const noEnv = { env: () => undefined };

function configError(
  text: string,
  env: (name: string) => string | undefined = noEnv.env,
) {
  try {
    parseConfig(text, file, { env });
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${error}`);
    return error;
  }
  assert.fail("no error was thrown");
}

async function loadError(yaml: string): Promise<Error> {
  const config = parseConfig(yaml, file, noEnv);
  try {
    const loaded = await loadPublishers(config, { events: new EventHub() });
    await Promise.all(loaded.map((d) => closePublisher(d.publisher)));
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${error}`);
    return error as Error;
  }
  assert.fail("no error was thrown");
}

Deno.test("parseConfig() fills in defaults and substitutes variables", () => {
  const env: Record<string, string> = { LABEL: "main", TIMEOUT: "250" };
  const config = parseConfig(
    [
      "source: { capacity: 50 }",
      "publishers:",
      "  - name: mem",
      "    use: ./memory_plugin.ts",
      "    options: { label: '${LABEL}', note: '${MISSING:-fallback}', raw: '$${LABEL}' }",
      "    policy: { timeoutMs: '${TIMEOUT}', required: false }",
    ].join("\n"),
    file,
    { env: (name) => env[name] },
  );

  assert.equal(config.source.capacity, 50);
  assert.equal(config.consumer.concurrency, 64);
  assert.equal(
    config.deadLetters.path,
    join(testdata, "data/dead-letters.jsonl"),
  );
  assert.deepEqual(config.publishers[0]?.options, {
    label: "main",
    note: "fallback",
    raw: "${LABEL}",
  });
  assert.equal(config.publishers[0]?.policy.timeoutMs, 250);
  assert.equal(config.publishers[0]?.policy.required, false);
  assert.equal(config.publishers[0]?.policy.maxAttempts, 3);
});

Deno.test("parseConfig() names the file and line for bad YAML", () => {
  const error = configError("publishers:\n  - use: [unclosed\n");
  assert.match(error.message, /fanout\.yaml: invalid YAML: .*line/);
});

Deno.test("parseConfig() names an unknown field with its path", () => {
  const error = configError(
    "publishers:\n  - use: ./memory_plugin.ts\n    polcy: {}\n",
  );
  assert.equal(error.path, "publishers[0].polcy");
  assert.match(
    error.message,
    /^.*fanout\.yaml: publishers\[0\]\.polcy: unknown field; expected one of name, use, options, policy$/,
  );
});

Deno.test("parseConfig() names an unknown policy field and a bad value", () => {
  assert.equal(
    configError(
      "publishers:\n  - use: ./x.ts\n  - use: ./y.ts\n    policy: { retries: 3 }\n",
    ).path,
    "publishers[1].policy.retries",
  );
  const error = configError(
    "publishers:\n  - use: ./x.ts\n    policy: { timeoutMs: -5 }\n",
  );
  assert.match(
    error.message,
    /publishers\[0\]\.policy\.timeoutMs: must be at least 1, got -5/,
  );
});

Deno.test("parseConfig() names a missing environment variable and its field", () => {
  const error = configError(
    "publishers:\n  - use: ./x.ts\n    options: { url: 'postgres://app:${DB_PASSWORD}@127.0.0.1/app' }\n",
  );
  assert.equal(error.path, "publishers[0].options.url");
  assert.match(
    error.message,
    /fanout\.yaml: publishers\[0\]\.options\.url: environment variable "DB_PASSWORD" is not set$/,
  );
});

Deno.test("parseConfig() refuses an empty file, a missing list and duplicate names", () => {
  assert.match(configError("").message, /the file is empty/);
  assert.equal(configError("source: {}\n").path, "publishers");
  assert.equal(
    configError(
      "publishers:\n  - { name: a, use: ./x.ts }\n  - { name: a, use: ./y.ts }\n",
    ).path,
    "publishers[1].name",
  );
  assert.equal(
    configError("source: { type: kafka }\npublishers: [{ use: ./x.ts }]\n")
      .path,
    "source.type",
  );
});

Deno.test("parseConfig() reads JSON when the file ends in .json", () => {
  const config = parseConfig(
    '{"publishers":[{"use":"./x.ts"}]}',
    join(testdata, "fanout.json"),
    noEnv,
  );
  assert.equal(config.publishers[0]?.use, "./x.ts");
  assert.throws(
    () => parseConfig("{bad", join(testdata, "fanout.json"), noEnv),
    /fanout\.json: invalid JSON/,
  );
});

Deno.test("loadConfig() names the file it cannot read", async () => {
  await assert.rejects(
    loadConfig(join(testdata, "absent.yaml")),
    /absent\.yaml: cannot read the file/,
  );
});

Deno.test("loadPublishers() creates a publisher from a local plugin with valid options", async () => {
  const config = parseConfig(
    "publishers:\n  - use: ./memory_plugin.ts\n    options: { label: main }\n",
    file,
    noEnv,
  );
  const loaded = await loadPublishers(config, { events: new EventHub() });
  assert.equal(loaded.length, 1);
  assert.equal(loaded[0]?.name, "memory");
  assert.equal(loaded[0]?.plugin.name, "memory");
  await closePublisher(loaded[0]!.publisher);
});

Deno.test("loadPublishers() names the field of a specifier that cannot be imported", async () => {
  const error = await loadError(
    "publishers:\n  - use: ./memory_plugin.ts\n    options: { label: a }\n  - use: ./does_not_exist.ts\n",
  );
  assert.ok(isPluginLoadError(error));
  assert.match(
    error.message,
    /fanout\.yaml: publishers\[1\]\.use: Cannot load plugin "\.\/does_not_exist\.ts": cannot import the module/,
  );
});

Deno.test("loadPublishers() names a module without a plugin definition", async () => {
  const none = await loadError("publishers:\n  - use: ./no_default.ts\n");
  assert.match(
    none.message,
    /publishers\[0\]\.use: Cannot load plugin "\.\/no_default\.ts": the module has no default export/,
  );
  const wrong = await loadError("publishers:\n  - use: ./wrong_default.ts\n");
  assert.match(
    wrong.message,
    /publishers\[0\]\.use: .*not a publisher definition: plugin "wrong": options must be a Standard Schema/,
  );
});

Deno.test("loadPublishers() names the option a plugin's schema refuses", async () => {
  const error = await loadError(
    "publishers:\n  - use: ./memory_plugin.ts\n    options: { label: a, limit: 0 }\n",
  );
  assert.equal(
    (error as { path?: string }).path,
    "publishers[0].options.limit",
  );
  assert.match(
    error.message,
    /fanout\.yaml: publishers\[0\]\.options\.limit: must be a number of at least 1$/,
  );
  const unknown = await loadError(
    "publishers:\n  - use: ./memory_plugin.ts\n    options: { label: a, colour: red }\n",
  );
  assert.match(
    unknown.message,
    /publishers\[0\]\.options\.colour: unknown option/,
  );
});

Deno.test("loadPublishers() reports a factory that fails, and two plugins with one name", async () => {
  const failing = await loadError(
    "publishers:\n  - use: ./failing_plugin.ts\n",
  );
  assert.match(
    failing.message,
    /publishers\[0\]: Cannot load plugin "\.\/failing_plugin\.ts": cannot start destination "failing": Error: Cannot open the device/,
  );
  const twice = await loadError(
    "publishers:\n  - { use: ./memory_plugin.ts, options: { label: a } }\n  - { use: ./memory_plugin.ts, options: { label: b } }\n",
  );
  assert.match(
    twice.message,
    /publishers\[1\]\.name: "memory" is already used by publishers\[0\]/,
  );
});

Deno.test("parseConfig() never repeats a value that came from the environment", () => {
  const secret = "S3cr3t-Pa55word";
  const env = (name: string) => name === "SECRET" ? secret : undefined;
  const capacity = configError(
    "source: { capacity: '${SECRET}' }\npublishers: [{ use: ./x.ts }]\n",
    env,
  );
  assert.equal(capacity.path, "source.capacity");
  assert.ok(!capacity.message.includes(secret), capacity.message);
  const policy = configError(
    "publishers:\n  - use: ./x.ts\n    policy: { timeoutMs: 'x${SECRET}' }\n",
    env,
  );
  assert.equal(policy.path, "publishers[0].policy.timeoutMs");
  assert.ok(!policy.message.includes(secret), policy.message);
});

Deno.test("parseConfig() refuses times that a timer cannot wait", () => {
  assert.match(
    configError(
      "publishers:\n  - use: ./x.ts\n    policy: { timeoutMs: 2147483648 }\n",
    ).message,
    /policy\.timeoutMs: must be at most 2147483647, got 2147483648/,
  );
  assert.equal(
    configError(
      "consumer: { drainTimeoutMs: 3000000000 }\npublishers: [{ use: ./x.ts }]\n",
    ).path,
    "consumer.drainTimeoutMs",
  );
});
