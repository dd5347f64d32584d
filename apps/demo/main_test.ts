import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";

const main = join(import.meta.dirname!, "main.ts");
const fixture = join(
  import.meta.dirname!,
  "../../../shared/fixtures/github-webhooks.jsonl",
);
const hasFixture = await Deno.stat(fixture).then(() => true, () => false);
if (!hasFixture) {
  // deno-lint-ignore no-console -- the skip reason must reach the person running the tests
  console.warn(`Skipping the shared fixture replay: ${fixture} is not here`);
}

/** A UDP listener on loopback that keeps every DogStatsD line it receives. */
async function statsdListener(): Promise<
  { socket: Socket; port: number; lines: string[] }
> {
  const socket = createSocket("udp4");
  const lines: string[] = [];
  socket.on("message", (data) => {
    lines.push(...data.toString("utf8").split("\n").filter((l) => l !== ""));
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { socket, port: socket.address().port, lines };
}

/**
 * Runs `fn` with a temporary directory and a DogStatsD listener, and removes
 * both afterwards.
 */
async function inWorkspace(
  prefix: string,
  fn: (
    dir: string,
    statsd: Awaited<ReturnType<typeof statsdListener>>,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const statsd = await statsdListener();
  try {
    await fn(dir, statsd);
  } finally {
    statsd.socket.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The command-line arguments that run the demo as the task does, writing only in `dir`. */
function demoArgs(dir: string, args: readonly string[]): string[] {
  return [
    "run",
    "--allow-read",
    `--allow-write=${dir}`,
    "--allow-env",
    "--allow-net=127.0.0.1,localhost",
    main,
    ...args,
  ];
}

/** Sums the values of one counter over the received lines. */
function counterTotal(lines: readonly string[], name: string): number {
  let total = 0;
  for (const line of lines) {
    const match = /^([^:]+):([^|]+)\|c(\|.*)?$/.exec(line);
    if (match && match[1] === name) total += Number(match[2]);
  }
  return total;
}

/** Writes a configuration like the demo's, with every file in `dir`. */
async function writeConfig(dir: string): Promise<string> {
  const file = join(dir, "fanout.yaml");
  await Deno.writeTextFile(
    file,
    `source: { capacity: 16 }
consumer: { concurrency: 4, drainTimeoutMs: 10000 }
deadLetters: { path: ./dead-letters.jsonl }
publishers:
  - name: log
    use: "@fanout/publishers-log"
    options: { target: file, path: ./events.log, format: json }
  - name: db
    use: "@fanout/publishers-db"
    options: { url: "sqlite:./fanout.db" }
    policy: { batchSize: 20, lingerMs: 5 }
  - name: metrics
    use: "@fanout/publishers-metrics"
    options: { statsd: { host: 127.0.0.1, port: "\${TEST_STATSD_PORT}" } }
`,
  );
  return file;
}

async function runDemo(
  dir: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: demoArgs(dir, args),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
}

function rowIds(dbFile: string): string[] {
  const db = new DatabaseSync(dbFile);
  try {
    return db.prepare("SELECT id FROM fanout_messages ORDER BY id").all()
      .map((row) => String(row.id));
  } finally {
    db.close();
  }
}

/** Waits until `check` holds or a second has passed. */
async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Replays a file twice and checks rows, counters and dead letters. */
async function replayTwice(input: string, expected: {
  events: number;
  ids: readonly string[];
  unreadable: number;
}): Promise<void> {
  await inWorkspace("fanout_demo_", async (dir, statsd) => {
    const config = await writeConfig(dir);
    const env = { TEST_STATSD_PORT: String(statsd.port) };

    // Unreadable lines are dead letters, and the demo says so by its exit code.
    const code = expected.unreadable > 0 ? 1 : 0;
    for (const replay of [1, 2]) {
      statsd.lines.length = 0;
      const run = await runDemo(
        dir,
        env,
        "--config",
        config,
        "--input",
        input,
        "--quiet",
      );
      assert.equal(
        run.code,
        code,
        `replay ${replay}: ${run.stderr}${run.stdout}`,
      );
      assert.match(
        run.stdout,
        new RegExp(
          `all delivered +${expected.events} of ${expected.events} messages`,
        ),
      );
      // The second replay adds no row.
      assert.deepEqual(
        rowIds(join(dir, "fanout.db")),
        [...expected.ids].sort(),
      );
      await settle(() =>
        counterTotal(statsd.lines, "fanout.messages") >= expected.events
      );
      assert.equal(
        counterTotal(statsd.lines, "fanout.messages"),
        expected.events,
      );
      const logLines = (await Deno.readTextFile(join(dir, "events.log")))
        .trim().split("\n");
      assert.equal(logLines.length, expected.events * replay);
    }

    const letters = await Deno.readTextFile(join(dir, "dead-letters.jsonl"))
      .catch(() => "");
    assert.equal(
      letters.split("\n").filter((l) => l !== "").length,
      expected.unreadable * 2,
    );
  });
}

Deno.test("demo --input stores one row per distinct id, counts every event, and adds no row on replay", async () => {
  await inWorkspace("fanout_input_", async (dir) => {
    const lines: string[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const id = `evt-${i % 35}`; // five ids come twice: redeliveries
      ids.add(id);
      lines.push(JSON.stringify({
        id,
        type: i % 2 ? "push" : "issues",
        payload: { n: i, nested: { deep: [1, { k: "v|#,:" }] } },
      }));
    }
    lines.push(
      '{"type":"no_id","payload":{"big":123456789012345678901234567890}}',
    );
    ids.add("input.jsonl:41");
    lines.push("{not json");
    lines.push("[1,2,3]");
    const input = join(dir, "input.jsonl");
    await Deno.writeTextFile(input, lines.join("\n") + "\n");

    await replayTwice(input, { events: 41, ids: [...ids], unreadable: 2 });
  });
});

Deno.test({
  name:
    "demo --input replays the shared GitHub webhook fixtures exactly once per id",
  ignore: !hasFixture,
  fn: async () => {
    const text = await Deno.readTextFile(fixture);
    const records = text.split("\n").filter((l) => l.trim() !== "").map((l) =>
      JSON.parse(l) as { id: string }
    );
    const ids = [...new Set(records.map((r) => r.id))];
    await replayTwice(fixture, { events: records.length, ids, unreadable: 0 });
  },
});

Deno.test("demo with simulated events shows every event delivered to all three destinations", async () => {
  await inWorkspace("fanout_sim_", async (dir, statsd) => {
    const config = await writeConfig(dir);
    const run = await runDemo(
      dir,
      { TEST_STATSD_PORT: String(statsd.port) },
      "--config",
      config,
      "--count",
      "60",
      "--over-ms",
      "300",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /delivered +log 60, db 60, metrics 60/);
    assert.match(run.stdout, /all delivered +60 of 60 messages/);
    assert.match(run.stdout, /latency +p50 [\d.]+ ms, p99 [\d.]+ ms/);
    const pushLines = run.stdout.split("\n").filter((l) =>
      /^\d\d:\d\d:\d\d\.\d{3} push /.test(l)
    );
    assert.equal(pushLines.length, 60);
    const deliveredLines = run.stdout.split("\n").filter((l) =>
      /^\d\d:\d\d:\d\d\.\d{3} +-> (log|db|metrics) /.test(l)
    );
    assert.equal(deliveredLines.length, 180);
  });
});

Deno.test("demo names the file and field of a bad configuration and exits 2", async () => {
  await inWorkspace("fanout_bad_", async (dir) => {
    const config = join(dir, "fanout.yaml");
    await Deno.writeTextFile(
      config,
      'publishers:\n  - use: "@fanout/publishers-db"\n    options: { url: 42 }\n',
    );
    const run = await runDemo(dir, {}, "--config", config, "--count", "1");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /fanout\.yaml: publishers\[0\]\.options\.url: /);
  });
});

Deno.test("demo refuses a missing input file and an unwritable dead-letter path with exit 2", async () => {
  await inWorkspace("fanout_missing_", async (dir) => {
    const config = await writeConfig(dir);
    const env = { TEST_STATSD_PORT: "9" };
    const missing = await runDemo(
      dir,
      env,
      "--config",
      config,
      "--input",
      join(dir, "absent.jsonl"),
    );
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /Cannot read input ".*absent\.jsonl": NotFound/,
    );

    await Deno.writeTextFile(join(dir, "blocker"), "");
    const text = await Deno.readTextFile(config);
    await Deno.writeTextFile(
      config,
      text.replace("./dead-letters.jsonl", "./blocker/dead.jsonl"),
    );
    const unwritable = await runDemo(
      dir,
      env,
      "--config",
      config,
      "--count",
      "1",
    );
    assert.equal(unwritable.code, 2);
    assert.match(
      unwritable.stderr,
      /fanout\.yaml: deadLetters\.path: Cannot open dead-letter file/,
    );
  });
});

Deno.test("demo prints control characters from messages escaped, and keeps large numeric ids", async () => {
  await inWorkspace("fanout_escape_", async (dir, statsd) => {
    const config = await writeConfig(dir);
    const input = join(dir, "hostile.jsonl");
    await Deno.writeTextFile(
      input,
      "\uFEFF" +
        JSON.stringify({
          id: "x\n12:00:00.000   -> db forged\u001b[31m",
          type: "t\u001b]0;title\u0007",
        }) + "\n" +
        '{"id":9007199254740993,"type":"big"}\n',
    );
    const run = await runDemo(
      dir,
      { TEST_STATSD_PORT: String(statsd.port) },
      "--config",
      config,
      "--input",
      input,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      !run.stdout.includes("\u0007") && !run.stdout.includes("\u001b"),
      "raw control bytes printed",
    );
    assert.ok(!run.stdout.includes("\n12:00:00.000   -> db forged"));
    assert.match(run.stdout, /push +x\\u000a12:00:00\.000/);
    assert.match(run.stdout, /all delivered +2 of 2 messages/);
    assert.deepEqual(
      rowIds(join(dir, "fanout.db")).sort(),
      [
        "9007199254740993",
        "x\n12:00:00.000   -> db forged\u001b[31m",
      ].sort(),
    );
  });
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`demo on ${signal} (even twice at once) stops the producer, drains what it accepted and exits 0`, async () => {
    await inWorkspace("fanout_signal_", async (dir, statsd) => {
      const config = await writeConfig(dir);
      const child = new Deno.Command(Deno.execPath(), {
        args: demoArgs(dir, [
          "--config",
          config,
          "--count",
          "1000",
          "--over-ms",
          "10000",
        ]),
        env: { TEST_STATSD_PORT: String(statsd.port) },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const chunks: string[] = [];
      const reading = child.stdout.pipeThrough(new TextDecoderStream())
        .pipeTo(
          new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
        );
      // Wait for the eleventh push, then interrupt.
      for (let i = 0; i < 500 && !chunks.join("").includes("sim-00010"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Twice at once, as when `deno task` passes on a terminal's Ctrl-C.
      child.kill(signal);
      child.kill(signal);
      const [status] = await Promise.all([child.status, reading]);
      await child.stderr.cancel();
      const stdout = chunks.join("");

      assert.equal(status.code, 0, stdout);
      const pushed = Number(/pushed +(\d+)/.exec(stdout)?.[1]);
      assert.ok(pushed > 10 && pushed < 1000, `pushed ${pushed}`);
      assert.match(
        stdout,
        new RegExp(`all delivered +${pushed} of ${pushed} messages`),
      );
      assert.equal(rowIds(join(dir, "fanout.db")).length, pushed);
    });
  });
}
