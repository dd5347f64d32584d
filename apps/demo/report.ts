// deno-lint-ignore-file no-console -- printing the run is the demo's purpose
import type {
  DeliveryReport,
  EventHub,
  Message,
  ShutdownReceipt,
} from "@fanout/core";

/** Options for {@linkcode DemoReport}. */
export interface DemoReportOptions {
  /** Print only the summary, not a line per event. */
  quiet: boolean;
}

/**
 * Prints what the demo does as it happens: the producer's pushes and each
 * destination's delivery with millisecond timestamps, then a summary.
 */
export class DemoReport {
  #quiet: boolean;
  #pushedAt = new Map<string, number>();
  #latencies: number[] = [];
  #pushed = 0;
  #pushWaitMs = 0;
  #producerStart = 0;
  #producerEnd = 0;
  #lastSettled = 0;
  #rejectedInput = 0;

  /**
   * Starts reporting on the fan-out's events.
   *
   * @param events The fan-out's events.
   * @param options Whether to print a line per event.
   */
  constructor(events: EventHub, options: DemoReportOptions) {
    this.#quiet = options.quiet;
    events.subscribe((event) => {
      if (this.#quiet) return;
      if (event.type === "delivered") {
        print(
          `${clock()}   -> ${event.destination.padEnd(10)} ${
            printable(event.messageId)
          }  ${event.durationMs.toFixed(1)} ms${
            event.attempts > 1 ? `, ${event.attempts} attempts` : ""
          }`,
        );
      } else if (event.type === "dead-lettered" || event.type === "dropped") {
        print(
          `${clock()}   !! ${event.destination.padEnd(10)} ${
            printable(event.messageId)
          }  ${event.type}: ${printable(String(event.error))}`,
        );
      }
    });
  }

  /** Input lines that could not become messages. */
  get rejectedInput(): number {
    return this.#rejectedInput;
  }

  /** Marks the producer's start. */
  producerStarted(): void {
    this.#producerStart = performance.now();
  }

  /** Marks the producer's end. */
  producerDone(): void {
    this.#producerEnd = performance.now();
  }

  /**
   * Records a push.
   *
   * @param message The message pushed.
   * @param waitedMs How long `push` waited for room in the queue.
   */
  pushed(message: Message, waitedMs: number): void {
    this.#pushed++;
    this.#pushWaitMs += waitedMs;
    this.#pushedAt.set(message.id, performance.now() - waitedMs);
    if (!this.#quiet) {
      print(
        `${clock()} push        ${printable(message.id)}  ${
          printable(message.type)
        }${
          waitedMs >= 1 ? ` (waited ${waitedMs.toFixed(1)} ms for room)` : ""
        }`,
      );
    }
  }

  /**
   * Records an input line that could not become a message.
   *
   * @param place File and line.
   * @param reason Why.
   */
  rejected(place: string, reason: string): void {
    this.#rejectedInput++;
    print(
      `${clock()} !! input ${printable(place)}: ${
        printable(reason)
      } (recorded as a dead letter)`,
    );
  }

  /**
   * Records a message's end, for latency.
   *
   * @param message The message.
   * @param _report Its delivery report.
   */
  settled = (message: Message, _report: DeliveryReport): void => {
    const now = performance.now();
    this.#lastSettled = now;
    const pushedAt = this.#pushedAt.get(message.id);
    if (pushedAt !== undefined) {
      this.#latencies.push(now - pushedAt);
      this.#pushedAt.delete(message.id);
    }
  };

  /**
   * Prints the summary.
   *
   * @param receipt The consumer's shutdown receipt.
   * @param names The destinations, in order.
   * @param deadLetterPath Where dead letters were written.
   */
  summary(
    receipt: ShutdownReceipt,
    names: readonly string[],
    deadLetterPath: string,
  ): void {
    const sorted = this.#latencies.toSorted((a, b) => a - b);
    const producerMs = this.#producerEnd - this.#producerStart;
    const deliveryMs = Math.max(this.#lastSettled, this.#producerEnd) -
      this.#producerStart;
    const per = (field: "delivered" | "deadLettered" | "dropped" | "retried") =>
      names.map((name) => `${name} ${receipt.destinations[name]?.[field] ?? 0}`)
        .join(", ");

    print("");
    print("Summary");
    print(`  pushed          ${this.#pushed}`);
    print(`  delivered       ${per("delivered")}`);
    print(
      `  all delivered   ${receipt.delivered} of ${receipt.received} messages (reached every required destination)`,
    );
    print(
      `  failed          ${
        per("deadLettered")
      } (dropped by best-effort policy: ${per("dropped")})`,
    );
    print(`  retried         ${per("retried")}`);
    print(
      `  dead-lettered   ${receipt.deadLettered + this.#rejectedInput}${
        receipt.deadLettered + this.#rejectedInput > 0
          ? ` -> ${deadLetterPath}`
          : ""
      }${
        this.#rejectedInput > 0
          ? ` (${this.#rejectedInput} unreadable input lines)`
          : ""
      }`,
    );
    if (receipt.unrecorded > 0) {
      print(`  NOT RECORDED    ${receipt.unrecorded} (see the error log)`);
    }
    print(
      `  latency         p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${
        percentile(sorted, 0.99).toFixed(1)
      } ms (push to every destination done)`,
    );
    print(
      `  producer        ${
        producerMs.toFixed(0)
      } ms for ${this.#pushed} pushes, ${
        this.#pushWaitMs.toFixed(1)
      } ms of it waiting for room in the queue`,
    );
    print(
      `  delivery        ${
        deliveryMs.toFixed(0)
      } ms from the first push to the last delivery`,
    );
    if (receipt.timedOut) {
      print(
        "  shutdown        the drain deadline passed; what was left is in the dead letters",
      );
    }
    for (const error of receipt.closeErrors) {
      print(`  close error     ${error}`);
    }
  }
}

/**
 * The value below which a share of sorted values fall.
 *
 * @param sorted Values in ascending order.
 * @param share Between 0 and 1.
 * @returns The percentile, or 0 for no values.
 */
export function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(
    sorted.length - 1,
    Math.ceil(share * sorted.length) - 1,
  );
  return sorted[Math.max(0, index)]!;
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

function print(line: string): void {
  console.log(line);
}

/**
 * Makes text from a message safe to print on one terminal line: control
 * characters, bidirectional overrides and line separators are escaped.
 *
 * @param text Any text.
 * @returns The text with those characters as `\u` escapes.
 */
export function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex -- control characters are what this finds
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
