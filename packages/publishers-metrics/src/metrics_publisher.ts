import {
  ClosedError,
  type FanOutEvent,
  type FanOutEvents,
  type Message,
  type PluginLogger,
  type Publisher,
  type PublishOptions,
  validateWithSchema,
} from "@fanout/core";
import { getLogger } from "@logtape/logtape";
import type { MetricDef, MetricSink } from "./metric.ts";
import { BUILT_IN } from "./built_in.ts";
import {
  type MetricsOptions,
  metricsOptionsSchema,
  type ResolvedMetricsOptions,
  ruleBuckets,
  ruleMetricKey,
} from "./options.ts";
import {
  PrometheusRegistry,
  type PrometheusServer,
  servePrometheus,
} from "./prometheus.ts";
import { type CompiledRule, compileRule, type Tags } from "./rules.ts";
import { StatsdClient } from "./statsd.ts";

/**
 * What {@linkcode createMetricsPublisher} needs besides its options; the
 * plugin loader fills these from the plugin context.
 *
 * @since 0.1.0
 */
export interface MetricsPublisherContext {
  /**
   * The fan-out's events, turned into per-destination series.
   *
   * @default {undefined}
   */
  events?: FanOutEvents;
  /**
   * Where send failures and mapping errors are reported.
   *
   * @default {getLogger(["fanout", "publishers-metrics"])}
   */
  logger?: PluginLogger;
  /**
   * Aborts opening the socket and the server.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A publisher that turns messages and fan-out events into metrics.
 *
 * @since 0.1.0
 */
export interface MetricsPublisher extends Publisher {
  /** The bound Prometheus port, or `undefined` without a Prometheus output. */
  readonly prometheusPort: number | undefined;
  /** StatsD datagrams that could not be sent. */
  readonly statsdSendErrors: number;
  /** Rule values that could not be a metric value, all rules together. */
  readonly mappingErrors: number;
  /**
   * Records the rule metrics and the delivery latency of one message.
   *
   * @param message The message.
   * @param options The abort signal, checked before any work.
   * @returns Resolves at once: sending happens in the background.
   * @throws {ClosedError} After `close()`.
   */
  publish(message: Message, options?: PublishOptions): Promise<void>;
  /**
   * Records the metrics of several messages.
   *
   * @param messages The messages.
   * @param options The abort signal, checked before each message.
   * @returns Resolves at once: no message is ever refused.
   * @throws {ClosedError} After `close()`.
   */
  publishBatch(
    messages: readonly Message[],
    options?: PublishOptions,
  ): Promise<void>;
  /**
   * Sends pending StatsD lines, closes the socket and the HTTP server, and
   * stops listening to events. A second call does nothing.
   *
   * @returns Resolves once everything is released.
   */
  close(): Promise<void>;
  /**
   * Same as `close()`.
   *
   * @returns Resolves once everything is released.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

const EVENT_COUNTERS = {
  received: BUILT_IN.received,
  delivered: BUILT_IN.delivered,
  retried: BUILT_IN.retried,
  "dead-lettered": BUILT_IN.deadLettered,
  dropped: BUILT_IN.dropped,
} as const;

function ruleDefs(options: ResolvedMetricsOptions): MetricDef[] {
  const byKey = new Map<string, MetricDef>();
  return options.rules.map((rule) => {
    const key = ruleMetricKey(options, rule);
    let def = byKey.get(key);
    if (!def) {
      def = {
        name: rule.name,
        kind: rule.kind,
        help: `Made by rule "${rule.name}".`,
        buckets: ruleBuckets(rule),
      };
      byKey.set(key, def);
    }
    return def;
  });
}

/**
 * Opens the configured outputs and returns a publisher that records the
 * rule metrics of each message and, when `events` is given, the fan-out's
 * own series per destination.
 *
 * Sending over UDP never blocks a publish and never throws into it: failed
 * sends are counted in `statsdSendErrors` and logged. A rule value that is
 * missing, not a number, not finite, or negative for a counter is counted in
 * `mapping_errors` (tag `rule`) and not sent; the message still succeeds.
 *
 * @example Count messages by type on a Prometheus endpoint
 * ```ts
 * import { createMetricsPublisher } from "@fanout/publishers-metrics";
 * import { createMessage } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * await using metrics = await createMetricsPublisher({
 *   prometheus: { port: 0 },
 *   rules: [{ name: "messages", kind: "counter", tags: { type: "type" } }],
 * });
 * await metrics.publish(createMessage({ type: "push", body: {} }));
 *
 * const response = await fetch(
 *   `http://127.0.0.1:${metrics.prometheusPort}/metrics`,
 * );
 * assert.match(await response.text(), /^fanout_messages_total\{type="push"\} 1$/m);
 * ```
 *
 * @param options The outputs and rules.
 * @param context Events, logger and abort signal.
 * @returns The open publisher.
 * @throws {TypeError} If the options are invalid.
 * @throws {Error} If the Prometheus port cannot be bound or the UDP socket
 * cannot be opened.
 * @since 0.1.0
 */
export async function createMetricsPublisher(
  options: MetricsOptions,
  context: MetricsPublisherContext = {},
): Promise<MetricsPublisher> {
  const {
    events,
    logger = getLogger(["fanout", "publishers-metrics"]),
    signal,
  } = context;

  const checked = await validateWithSchema(metricsOptionsSchema, options);
  if (!checked.ok) {
    const problems = checked.issues
      .map((issue) =>
        issue.path ? `${issue.path}: ${issue.message}` : issue.message
      )
      .join("; ");
    throw new TypeError(`Cannot create metrics publisher: ${problems}`);
  }
  const resolved = checked.value;
  signal?.throwIfAborted();

  const statsd = resolved.statsd
    ? await StatsdClient.open(resolved.statsd, logger)
    : undefined;
  let registry: PrometheusRegistry | undefined;
  let server: PrometheusServer | undefined;
  try {
    signal?.throwIfAborted();
    if (resolved.prometheus) {
      registry = new PrometheusRegistry(resolved.prometheus, logger);
      server = servePrometheus(resolved.prometheus, registry);
    }
  } catch (error) {
    await statsd?.close();
    throw error;
  }

  return new MetricsPublisherImpl(resolved, {
    statsd,
    registry,
    server,
    events,
    logger,
  });
}

interface Outputs {
  statsd: StatsdClient | undefined;
  registry: PrometheusRegistry | undefined;
  server: PrometheusServer | undefined;
  events: FanOutEvents | undefined;
  logger: PluginLogger;
}

class MetricsPublisherImpl implements MetricsPublisher {
  #rules: { compiled: CompiledRule; def: MetricDef }[];
  #sinks: MetricSink[];
  #statsd: StatsdClient | undefined;
  #server: PrometheusServer | undefined;
  #logger: PluginLogger;
  #unsubscribe: (() => void) | undefined;
  #mappingErrors = 0;
  #warnedRules = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedMetricsOptions, outputs: Outputs) {
    const { statsd, registry, server, events, logger } = outputs;
    const defs = ruleDefs(options);
    this.#rules = options.rules.map((rule, index) => ({
      compiled: compileRule(rule),
      def: defs[index]!,
    }));
    this.#sinks = [statsd, registry].filter((sink) => sink !== undefined);
    this.#statsd = statsd;
    this.#server = server;
    this.#logger = logger;

    if (registry && statsd) {
      let reported = 0;
      registry.beforeRender(() => {
        const now = statsd.sendErrors;
        registry.record(BUILT_IN.statsdSendErrors, now - reported, {});
        reported = now;
      });
    }
    this.#unsubscribe = events?.subscribe((event) => this.#observe(event));
  }

  get prometheusPort(): number | undefined {
    return this.#server?.port;
  }

  get statsdSendErrors(): number {
    return this.#statsd?.sendErrors ?? 0;
  }

  get mappingErrors(): number {
    return this.#mappingErrors;
  }

  publish(message: Message, options: PublishOptions = {}): Promise<void> {
    return this.publishBatch([message], options);
  }

  publishBatch(
    messages: readonly Message[],
    options: PublishOptions = {},
  ): Promise<void> {
    const { signal } = options;
    if (this.#closing) {
      return Promise.reject(
        new ClosedError(
          `Cannot publish ${messages.length} message(s): the metrics publisher is closed`,
        ),
      );
    }
    try {
      for (const message of messages) {
        signal?.throwIfAborted();
        this.#recordMessage(message);
      }
    } catch (error) {
      return Promise.reject(error);
    } finally {
      this.#statsd?.afterPublish();
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const results = await Promise.allSettled([
      this.#statsd?.close(),
      this.#server?.close(),
    ]);
    const errors = results
      .filter((result) => result.status === "rejected")
      .map((result) => result.reason);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(
        errors,
        "Cannot close metrics publisher: both outputs failed to close",
      );
    }
  }

  #record(def: MetricDef, value: number, tags: Tags): void {
    for (const sink of this.#sinks) sink.record(def, value, tags);
  }

  #recordMessage(message: Message): void {
    for (const { compiled, def } of this.#rules) {
      const outcome = compiled.apply(message);
      if (outcome === undefined) continue;
      if (outcome.ok) {
        this.#record(def, outcome.value, outcome.tags);
      } else {
        this.#mappingError(compiled.rule.name, message, outcome.reason);
      }
    }
    const latency = Math.max(0, Date.now() - message.producedAt);
    this.#record(BUILT_IN.deliveryLatency, latency, { type: message.type });
  }

  #mappingError(rule: string, message: Message, reason: string): void {
    this.#mappingErrors++;
    this.#record(BUILT_IN.mappingErrors, 1, { rule });
    const fields = { rule, messageId: message.id, reason };
    if (this.#warnedRules.has(rule)) {
      this.#logger.debug(
        "Cannot map message {messageId} with rule {rule}: {reason}",
        fields,
      );
    } else {
      this.#warnedRules.add(rule);
      this.#logger.warn(
        "Cannot map message {messageId} with rule {rule}: {reason}; later failures of this rule are logged at debug level",
        fields,
      );
    }
  }

  #observe(event: FanOutEvent): void {
    if (event.type === "queue-depth") {
      this.#record(BUILT_IN.queueDepth, event.depth, {});
      this.#record(BUILT_IN.queueCapacity, event.capacity, {});
    } else {
      // An event type added to core later has no series here yet.
      const def: MetricDef | undefined = EVENT_COUNTERS[event.type];
      if (def === undefined) return;
      const tags = { destination: event.destination };
      this.#record(def, 1, tags);
      if (event.type === "delivered" && Number.isFinite(event.durationMs)) {
        this.#record(
          BUILT_IN.destinationLatency,
          Math.max(0, event.durationMs),
          tags,
        );
      }
    }
    this.#statsd?.afterPublish();
  }
}
