/**
 * The Fanout demo: builds a worker from a configuration file, then feeds it
 * simulated events or a JSON lines file, and prints each push, each
 * destination's delivery and a summary.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { configure, getConsoleSink } from "@logtape/logtape";
import {
  Consumer,
  createMessage,
  deadLetterOf,
  describeError,
  EventHub,
  FanOutPublisher,
  isConfigError,
  JsonlDeadLetters,
  loadConfig,
  loadPublishers,
  MemoryQueue,
} from "@fanout/core";
import { readInput, simulatedEvent } from "./events.ts";
import { DemoReport } from "./report.ts";

const USAGE = `Usage: deno task demo [options]

  --config FILE     configuration file (default: apps/demo/fanout.yaml)
  --input FILE      replay a JSON lines file instead of simulating events
  --count N         simulated events to produce (default: 300)
  --over-ms MS      spread the simulated events over this long (default: 3000)
  --quiet           print only the summary
  --help            show this text

Ctrl-C stops the producer, drains what was accepted and prints the summary.`;

/**
 * Runs the demo.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: {
          type: "string",
          default: new URL("./fanout.yaml", import.meta.url).pathname,
        },
        input: { type: "string" },
        count: { type: "string", default: "300" },
        "over-ms": { type: "string", default: "3000" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    write(USAGE);
    return 0;
  }
  const count = Number(values.count);
  const overMs = Number(values["over-ms"]);
  if (!Number.isSafeInteger(count) || count < 0) {
    fail(`--count must be a whole number, got "${values.count}"`);
    return 2;
  }
  if (!(overMs >= 0)) {
    fail(
      `--over-ms must be a number of milliseconds, got "${values["over-ms"]}"`,
    );
    return 2;
  }

  await configure({
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: ["fanout"], lowestLevel: "warning", sinks: ["console"] },
      {
        category: ["logtape", "meta"],
        lowestLevel: "warning",
        sinks: ["console"],
      },
    ],
  });

  const events = new EventHub((error) =>
    fail(`An event listener failed: ${describeError(error)}`)
  );
  const lifetime = new AbortController();
  let fanOut: FanOutPublisher;
  let config;
  try {
    config = await loadConfig(values.config);
    const destinations = await loadPublishers(config, {
      events,
      signal: lifetime.signal,
      importModule: (specifier) => import(specifier),
    });
    fanOut = new FanOutPublisher(destinations, { events });
  } catch (error) {
    fail(isConfigError(error) ? error.message : describeError(error));
    return 2;
  }

  if (values.input) {
    const problem = await Deno.stat(values.input).then(
      (info) => info.isFile ? undefined : "it is not a file",
      (error) => describeError(error),
    );
    if (problem) {
      await fanOut.close().catch(() => {});
      fail(`Cannot read input "${values.input}": ${problem}`);
      return 2;
    }
  }
  const deadLetters = new JsonlDeadLetters(config.deadLetters.path);
  try {
    await deadLetters.open();
  } catch (error) {
    await fanOut.close().catch(() => {});
    fail(`${config.file}: deadLetters.path: ${(error as Error).message}`);
    return 2;
  }
  const queue = new MemoryQueue({ capacity: config.source.capacity, events });
  const report = new DemoReport(events, { quiet: values.quiet });
  const consumer = new Consumer(queue, fanOut, {
    concurrency: config.consumer.concurrency,
    drainTimeoutMs: config.consumer.drainTimeoutMs,
    deadLetters,
    onSettled: report.settled,
  });

  const stopProducer = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = (): void => {
    // `deno task` passes a terminal's Ctrl-C on to the demo, which then
    // sees it twice: only a signal a second or more after the first quits.
    if (firstSignalAt !== undefined) {
      if (performance.now() - firstSignalAt >= 1000) Deno.exit(130);
      return;
    }
    firstSignalAt = performance.now();
    write(
      "\nStopping: no more events; draining what was accepted (press Ctrl-C again after a second to quit at once)",
    );
    stopProducer.abort(new Error("interrupted"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  report.producerStarted();
  try {
    const source = values.input
      ? readInput(values.input)
      : simulate(count, overMs, stopProducer.signal);
    for await (const line of source) {
      if (stopProducer.signal.aborted) break;
      if (!line.ok) {
        report.rejected(line.place, line.reason);
        await deadLetters.write(deadLetterOf(
          createMessage({
            id: line.place,
            type: "invalid-input",
            body: line.text,
          }),
          [{ destination: "input", error: line.reason, attempts: 0 }],
        ));
        continue;
      }
      // The producer waits only when the queue is full.
      let waitedMs = 0;
      if (!queue.tryPush(line.message)) {
        const start = performance.now();
        await queue.push(line.message, { signal: stopProducer.signal });
        waitedMs = performance.now() - start;
      }
      report.pushed(line.message, waitedMs);
    }
  } catch (error) {
    if (!stopProducer.signal.aborted) {
      fail(`The producer stopped: ${describeError(error)}`);
    }
  }
  report.producerDone();

  const receipt = await consumer.stop();
  lifetime.abort();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  report.summary(receipt, fanOut.destinations, config.deadLetters.path);
  const deadLettered = receipt.deadLettered + report.rejectedInput;
  if (deadLettered > 0 || receipt.unrecorded > 0) {
    fail(
      `${deadLettered} message(s) dead-lettered to ${config.deadLetters.path}${
        receipt.unrecorded > 0
          ? `, ${receipt.unrecorded} not even recorded (see the error log)`
          : ""
      }`,
    );
    return 1;
  }
  return 0;
}

/** Yields simulated events, evenly spread over `overMs`. */
async function* simulate(
  count: number,
  overMs: number,
  signal: AbortSignal,
): AsyncGenerator<{ ok: true; message: ReturnType<typeof simulatedEvent> }> {
  const start = performance.now();
  for (let n = 0; n < count && !signal.aborted; n++) {
    const due = start + (overMs * n) / Math.max(1, count);
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    yield { ok: true, message: simulatedEvent(n) };
  }
}

function write(text: string): void {
  // deno-lint-ignore no-console -- the demo talks to the person running it
  console.log(text);
}

function fail(text: string): void {
  // deno-lint-ignore no-console -- errors go to stderr for the person running it
  console.error(text);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
