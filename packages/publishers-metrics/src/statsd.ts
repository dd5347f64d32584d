import { createSocket, type Socket } from "node:dgram";
import { Buffer } from "node:buffer";
import type { PluginLogger as Logger } from "@fanout/core";
import type { MetricDef, MetricSink } from "./metric.ts";
import type { ResolvedStatsdOptions } from "./options.ts";
import { statsdMetricName } from "./names.ts";
import type { Tags } from "./rules.ts";
import {
  formatNumber,
  sanitizeStatsdTagKey,
  sanitizeStatsdTagValue,
} from "./sanitize.ts";

const TYPES = { counter: "c", gauge: "g", histogram: "h", timing: "ms" };

/** Datagrams waiting for the one being sent, at most. */
const MAX_QUEUED_PACKETS = 1024;

/** Send failures are logged at most once in this many milliseconds. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Sends DogStatsD lines over UDP, packed into datagrams, without ever
 * waiting for or throwing on the network: failures are counted and logged.
 */
export class StatsdClient implements MetricSink {
  #options: ResolvedStatsdOptions;
  #logger: Logger;
  #socket: Socket;
  #globalTags: Map<string, string>;
  #names = new Map<MetricDef, string>();
  #lines: string[] = [];
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Buffer[] = [];
  #sending = false;
  #drained: (() => void) | undefined;
  #sendErrors = 0;
  #lastWarnedAt = -Infinity;
  #closed = false;

  private constructor(
    options: ResolvedStatsdOptions,
    logger: Logger,
    socket: Socket,
  ) {
    this.#options = options;
    this.#logger = logger;
    this.#socket = socket;
    this.#globalTags = new Map(
      Object.entries(options.tags).map((
        [key, value],
      ) => [sanitizeStatsdTagKey(key), sanitizeStatsdTagValue(value)]),
    );
    socket.on("error", (error) => this.#failed(error));
  }

  /**
   * Opens a UDP socket bound to an ephemeral local port.
   *
   * @param options The StatsD options.
   * @param logger Where send failures are reported.
   * @returns The client.
   */
  static async open(
    options: ResolvedStatsdOptions,
    logger: Logger,
  ): Promise<StatsdClient> {
    const ipv6 = options.host.includes(":");
    const socket = createSocket(ipv6 ? "udp6" : "udp4");
    // A loopback target gets a loopback source address, so that a worker
    // allowed only loopback (`--allow-net=127.0.0.1`) can send.
    const local = isLoopback(options.host)
      ? (ipv6 ? "::1" : "127.0.0.1")
      : (ipv6 ? "::" : "0.0.0.0");
    // Binding without permission throws outside the callback's reach, so
    // the permission is checked first to give a clear error.
    const permission = await Deno.permissions.query({
      name: "net",
      host: ipv6 ? `[${local}]` : local,
    });
    if (permission.state !== "granted") {
      socket.close();
      throw new Error(
        `Cannot open a UDP socket on "${local}" for StatsD at "${options.host}": the process has no network permission for "${local}" (run with --allow-net=${local})`,
      );
    }
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, local, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      socket.close();
      throw new Error(
        `Cannot open a UDP socket on "${local}" for StatsD: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    return new StatsdClient(options, logger, socket);
  }

  /** Datagrams that could not be sent, or lines that were dropped. */
  get sendErrors(): number {
    return this.#sendErrors;
  }

  record(def: MetricDef, value: number, tags: Tags): void {
    if (this.#closed) return;
    const name = this.#name(def);
    const suffix = this.#tagSuffix(tags);
    const type = TYPES[def.kind];
    const line = `${name}:${formatNumber(value)}|${type}${suffix}`;
    // A signed gauge value means "change by" to StatsD, so a negative value
    // is set by going to zero first, in the same datagram.
    this.#add(
      def.kind === "gauge" && value < 0
        ? `${name}:0|g${suffix}\n${line}`
        : line,
    );
  }

  /** Sends the lines waiting to be packed. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#lines.length === 0) return;
    const packet = this.#lines.join("\n");
    this.#lines = [];
    this.#bytes = 0;
    this.#send(packet);
  }

  /** Sends at once when no flush interval is set. */
  afterPublish(): void {
    if (this.#options.flushIntervalMs === 0) this.flush();
  }

  /**
   * Sends what waits, lets pending sends finish, and closes the socket. A
   * second call does nothing.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#sending) {
      await new Promise<void>((resolve) => this.#drained = resolve);
    }
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #name(def: MetricDef): string {
    let name = this.#names.get(def);
    if (name === undefined) {
      name = statsdMetricName(this.#options.prefix, def.name);
      this.#names.set(def, name);
    }
    return name;
  }

  #tagSuffix(tags: Tags): string {
    const merged = new Map(this.#globalTags);
    for (const [key, value] of Object.entries(tags)) {
      merged.set(sanitizeStatsdTagKey(key), sanitizeStatsdTagValue(value));
    }
    if (merged.size === 0) return "";
    const parts: string[] = [];
    for (const [key, value] of merged) parts.push(`${key}:${value}`);
    return `|#${parts.join(",")}`;
  }

  #add(line: string): void {
    const size = Buffer.byteLength(line);
    const joined = this.#bytes + (this.#lines.length > 0 ? 1 : 0) + size;
    if (this.#lines.length > 0 && joined > this.#options.maxPacketBytes) {
      this.flush();
    }
    this.#lines.push(line);
    this.#bytes += (this.#lines.length > 1 ? 1 : 0) + size;
    if (this.#bytes >= this.#options.maxPacketBytes) {
      this.flush();
    } else if (
      this.#timer === undefined && this.#options.flushIntervalMs > 0
    ) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#options.flushIntervalMs);
    }
  }

  #send(packet: string): void {
    if (this.#queue.length >= MAX_QUEUED_PACKETS) {
      this.#failed(
        new Error(
          `Cannot send StatsD datagram: ${MAX_QUEUED_PACKETS} datagrams are already waiting`,
        ),
      );
      return;
    }
    this.#queue.push(Buffer.from(packet));
    if (!this.#sending) this.#sendNext();
  }

  /** Sends one datagram at a time, so that they leave in order. */
  #sendNext(): void {
    const packet = this.#queue.shift();
    if (packet === undefined) {
      this.#sending = false;
      this.#drained?.();
      this.#drained = undefined;
      return;
    }
    this.#sending = true;
    try {
      this.#socket.send(
        packet,
        this.#options.port,
        this.#options.host,
        (error) => {
          if (error) this.#failed(error);
          this.#sendNext();
        },
      );
    } catch (error) {
      this.#failed(error);
      queueMicrotask(() => this.#sendNext());
    }
  }

  #failed(error: unknown): void {
    this.#sendErrors++;
    // One warning per interval is enough to notice; the count keeps the rest.
    const now = Date.now();
    if (now - this.#lastWarnedAt < WARN_INTERVAL_MS) return;
    this.#lastWarnedAt = now;
    this.#logger.warn("Cannot send StatsD datagram to {host}:{port}", {
      host: this.#options.host,
      port: this.#options.port,
      sendErrors: this.#sendErrors,
      error,
    });
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
