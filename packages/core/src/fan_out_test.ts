import assert from "node:assert/strict";
import { createMessage, type Message } from "./message.ts";
import type { Publisher, PublishOptions } from "./publisher.ts";
import { FanOutPublisher } from "./fan_out.ts";
import { EventHub, type FanOutEvent } from "./events.ts";
import { FanOutError, PermanentError } from "./errors.ts";

/** A publisher that records each call and behaves as told. */
function recorder(
  behave: (call: number, options: PublishOptions) => Promise<void> = () =>
    Promise.resolve(),
) {
  const calls: { id: string; at: number }[] = [];
  let closed = 0;
  const publisher: Publisher = {
    publish(message: Message, options: PublishOptions = {}) {
      calls.push({ id: message.id, at: performance.now() });
      return behave(calls.length, options);
    },
    close() {
      closed++;
      return Promise.resolve();
    },
  };
  return { publisher, calls, closed: () => closed };
}

function hang(options: PublishOptions): Promise<void> {
  return new Promise((_, reject) => {
    options.signal?.addEventListener(
      "abort",
      () => reject(options.signal?.reason),
      { once: true },
    );
  });
}

const message = createMessage({ id: "m1", type: "test", body: { n: 1 } });

Deno.test("FanOutPublisher.deliver() starts every child within a few milliseconds", async () => {
  const slow = (ms: number) => () =>
    new Promise<void>((resolve) => setTimeout(resolve, ms));
  const children = [
    recorder(slow(100)),
    recorder(slow(60)),
    recorder(slow(20)),
  ];
  await using fanOut = new FanOutPublisher(
    children.map((c, i) => ({ name: `c${i}`, publisher: c.publisher })),
  );

  const start = performance.now();
  const report = await fanOut.deliver(message);
  const elapsed = performance.now() - start;

  assert.ok(report.ok);
  const starts = children.map((c) => c.calls[0]!.at);
  // One by one, the last would start 160 ms after the first.
  assert.ok(Math.max(...starts) - Math.min(...starts) < 10, `spread ${starts}`);
  assert.ok(elapsed < 100 + 60, `took ${elapsed} ms: children ran one by one`);
});

Deno.test("FanOutPublisher.deliver() cuts a hanging child at its timeout while the others finish", async () => {
  let sawAbort = false;
  const hanging = recorder((_, options) => {
    options.signal?.addEventListener("abort", () => sawAbort = true);
    return hang(options);
  });
  const fast = recorder();
  await using fanOut = new FanOutPublisher([
    {
      name: "hanging",
      publisher: hanging.publisher,
      policy: { timeoutMs: 200, maxAttempts: 1, required: false },
    },
    { name: "fast", publisher: fast.publisher },
  ]);

  const start = performance.now();
  const report = await fanOut.deliver(message);
  const elapsed = performance.now() - start;

  const [hangingResult, fastResult] = report.results;
  assert.equal(fastResult?.ok, true);
  assert.ok(
    fastResult!.durationMs < 100,
    `fast took ${fastResult!.durationMs}`,
  );
  assert.equal(hangingResult?.ok, false);
  assert.match(String(hangingResult?.error), /timed out after 200 ms/);
  assert.ok(sawAbort, "the hanging child's signal was not aborted");
  assert.ok(elapsed >= 195 && elapsed < 1000, `took ${elapsed} ms`);
});

Deno.test("FanOutPublisher.deliver() retries only the child that failed", async () => {
  const flaky = recorder((call) =>
    call < 3 ? Promise.reject(new Error("flaky")) : Promise.resolve()
  );
  const steady = recorder();
  const events: FanOutEvent[] = [];
  const hub = new EventHub();
  hub.subscribe((e) => events.push(e));
  await using fanOut = new FanOutPublisher([
    {
      name: "flaky",
      publisher: flaky.publisher,
      policy: { maxAttempts: 5, backoffMs: 1 },
    },
    { name: "steady", publisher: steady.publisher },
  ], { events: hub });

  const report = await fanOut.deliver(message);

  assert.ok(report.ok);
  assert.equal(flaky.calls.length, 3);
  assert.equal(steady.calls.length, 1);
  assert.equal(report.results[0]?.attempts, 3);
  assert.equal(
    events.filter((e) => e.type === "retried" && e.destination === "flaky")
      .length,
    2,
  );
});

Deno.test("FanOutPublisher.deliver() gives up at once on a PermanentError", async () => {
  const refusing = recorder(() => Promise.reject(new PermanentError("bad")));
  await using fanOut = new FanOutPublisher([
    {
      name: "refusing",
      publisher: refusing.publisher,
      policy: { maxAttempts: 5 },
    },
  ]);

  const report = await fanOut.deliver(message);

  assert.equal(report.ok, false);
  assert.equal(refusing.calls.length, 1);
  assert.equal((report.results[0]?.error as Error).message, "bad");
});

Deno.test("FanOutPublisher.deliver() counts a best-effort failure as not blocking", async () => {
  const broken = recorder(() => Promise.reject(new Error("down")));
  const events: FanOutEvent[] = [];
  const hub = new EventHub();
  hub.subscribe((e) => events.push(e));
  await using fanOut = new FanOutPublisher([
    {
      name: "broken",
      publisher: broken.publisher,
      policy: { required: false, maxAttempts: 2, backoffMs: 1 },
    },
    { name: "ok", publisher: recorder().publisher },
  ], { events: hub });

  const report = await fanOut.deliver(message);

  assert.ok(report.ok);
  assert.deepEqual(
    events.filter((e) => e.type === "dropped").map((e) =>
      "destination" in e ? e.destination : ""
    ),
    ["broken"],
  );
  assert.equal(events.filter((e) => e.type === "dead-lettered").length, 0);
});

Deno.test("FanOutPublisher.publish() throws a FanOutError naming each failed required child", async () => {
  await using fanOut = new FanOutPublisher([
    {
      name: "a",
      publisher: recorder(() => Promise.reject(new Error("a down"))).publisher,
      policy: { maxAttempts: 1 },
    },
    { name: "b", publisher: recorder().publisher },
  ]);

  await assert.rejects(fanOut.publish(message), (error: unknown) => {
    assert.ok(error instanceof FanOutError);
    assert.deepEqual(error.failures.map((f) => f.destination), ["a"]);
    assert.match(error.message, /Cannot deliver message "m1": failed at "a"/);
    return true;
  });
});

Deno.test("FanOutPublisher.deliver() with an aborted signal calls no child", async () => {
  const child = recorder();
  await using fanOut = new FanOutPublisher([
    { name: "c", publisher: child.publisher },
  ]);

  const report = await fanOut.deliver(message, {
    signal: AbortSignal.abort(new Error("stop")),
  });

  assert.equal(report.ok, false);
  assert.equal(child.calls.length, 0);
  assert.match(String(report.results[0]?.error), /cancelled.*stop/);
});

Deno.test("FanOutPublisher.deliver() aborted midway cancels the child's attempt", async () => {
  let aborted = false;
  const child = recorder((_, options) => {
    options.signal?.addEventListener("abort", () => aborted = true);
    return hang(options);
  });
  await using fanOut = new FanOutPublisher([
    { name: "c", publisher: child.publisher, policy: { timeoutMs: 10_000 } },
  ]);
  const controller = new AbortController();

  const pending = fanOut.deliver(message, { signal: controller.signal });
  while (child.calls.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort(new Error("shutdown"));
  const report = await pending;

  assert.equal(report.ok, false);
  assert.ok(aborted);
  assert.equal(child.calls.length, 1);
});

Deno.test("FanOutPublisher.close() closes every child once, even when one fails", async () => {
  const good = recorder();
  let badCloses = 0;
  const bad: Publisher = {
    publish: () => Promise.resolve(),
    close: () => {
      badCloses++;
      return Promise.reject(new Error("stuck"));
    },
  };
  const fanOut = new FanOutPublisher([
    { name: "good", publisher: good.publisher },
    { name: "bad", publisher: bad },
  ]);

  await assert.rejects(fanOut.close(), /Cannot close destination "bad"/);
  await assert.rejects(fanOut.close(), /Cannot close destination "bad"/);

  assert.equal(good.closed(), 1);
  assert.equal(badCloses, 1);
  await assert.rejects(fanOut.deliver(message), /the fan-out is closed/);
});

Deno.test("FanOutPublisher batches through publishBatch and fails only the refused message", async () => {
  const batches: string[][] = [];
  const batching: Publisher = {
    publish: () => Promise.reject(new Error("single path not expected")),
    publishBatch(messages) {
      batches.push(messages.map((m) => m.id));
      const failures = new Map<string, unknown>();
      for (const m of messages) {
        if (m.id === "bad") failures.set(m.id, new PermanentError("refused"));
      }
      return Promise.resolve({ failures });
    },
    close: () => Promise.resolve(),
  };
  await using fanOut = new FanOutPublisher([
    {
      name: "db",
      publisher: batching,
      policy: { batchSize: 10, lingerMs: 20, maxAttempts: 2 },
    },
  ]);

  const ids = ["a", "bad", "c"];
  const reports = await Promise.all(
    ids.map((id) => fanOut.deliver(createMessage({ id, body: {} }))),
  );

  assert.deepEqual(batches, [ids]);
  assert.deepEqual(reports.map((r) => r.ok), [true, false, true]);
  assert.equal(reports[1]?.results[0]?.attempts, 1);
});

Deno.test("FanOutPublisher refuses duplicate names and an empty list", () => {
  const p = recorder().publisher;
  assert.throws(
    () =>
      new FanOutPublisher([{ name: "x", publisher: p }, {
        name: "x",
        publisher: p,
      }]),
    /destination "x" is given twice/,
  );
  assert.throws(() => new FanOutPublisher([]), /no destination given/);
  assert.throws(
    () =>
      new FanOutPublisher([{
        name: "x",
        publisher: p,
        policy: { timeoutMs: 0 },
      }]),
    RangeError,
  );
});

Deno.test("FanOutPublisher retries only the messages of a batch that failed", async () => {
  const calls: string[][] = [];
  let flakyFailures = 1;
  const batching: Publisher = {
    publish: () => Promise.reject(new Error("single path not expected")),
    publishBatch(messages) {
      calls.push(messages.map((m) => m.id));
      const failures = new Map<string, unknown>();
      for (const m of messages) {
        if (m.id === "flaky" && flakyFailures-- > 0) {
          failures.set(m.id, new Error("try again"));
        }
      }
      return Promise.resolve({ failures });
    },
    close: () => Promise.resolve(),
  };
  await using fanOut = new FanOutPublisher([{
    name: "db",
    publisher: batching,
    policy: { batchSize: 3, lingerMs: 50, backoffMs: 1 },
  }]);

  const reports = await Promise.all(
    ["a", "flaky", "c"].map((id) =>
      fanOut.deliver(createMessage({ id, body: {} }))
    ),
  );

  assert.deepEqual(calls, [["a", "flaky", "c"], ["flaky"]]);
  assert.ok(reports.every((r) => r.ok));
  assert.equal(reports[1]?.results[0]?.attempts, 2);
  assert.equal(reports[0]?.results[0]?.attempts, 1);
});

Deno.test("FanOutPublisher.deliver() with waitFor required does not wait for best-effort destinations", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  await using fanOut = new FanOutPublisher([
    { name: "main", publisher: recorder().publisher },
    {
      name: "extra",
      publisher: recorder(() => held).publisher,
      policy: { required: false },
    },
  ]);

  const report = await fanOut.deliver(message, { waitFor: "required" });

  assert.ok(report.ok);
  assert.deepEqual(report.results.map((r) => r.destination), ["main"]);
  assert.deepEqual(report.pending, ["extra"]);
  release();
  await fanOut.idle();
});
