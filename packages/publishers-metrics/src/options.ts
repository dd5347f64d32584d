import { z } from "zod";
import {
  sanitizePrometheusLabelName,
  sanitizePrometheusName,
} from "./sanitize.ts";

/**
 * Where and how StatsD or DogStatsD lines are sent over UDP.
 *
 * @since 0.1.0
 */
export interface StatsdOptions {
  /**
   * The host of the StatsD server or DogStatsD agent.
   *
   * @default {"127.0.0.1"}
   */
  host?: string;
  /**
   * Its UDP port.
   *
   * @default {8125}
   */
  port?: number;
  /**
   * Put before every metric name.
   *
   * @default {"fanout."}
   */
  prefix?: string;
  /**
   * Tags added to every line, in the DogStatsD `|#key:value` form.
   *
   * @default {{}}
   */
  tags?: Record<string, string>;
  /**
   * Lines are packed into datagrams of at most this many bytes; a single
   * longer line travels alone.
   *
   * @default {1432}
   */
  maxPacketBytes?: number;
  /**
   * How long lines wait to be packed with others before they are sent; 0
   * sends at the end of each `publish` call.
   *
   * @default {10}
   */
  flushIntervalMs?: number;
}

/**
 * Where the Prometheus text exposition is served over HTTP.
 *
 * @since 0.1.0
 */
export interface PrometheusOptions {
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  host?: string;
  /**
   * The TCP port; 0 picks a free one, readable from the publisher's
   * `prometheusPort`.
   *
   * @default {9464}
   */
  port?: number;
  /**
   * The path that answers scrapes; other paths get 404.
   *
   * @default {"/metrics"}
   */
  path?: string;
  /**
   * Put before every metric name.
   *
   * @default {"fanout_"}
   */
  prefix?: string;
  /**
   * The most series kept; a new label combination beyond it is not
   * recorded and is counted in `series_dropped_total`.
   *
   * @default {10000}
   */
  maxSeries?: number;
}

/**
 * Which messages a rule applies to.
 *
 * @since 0.1.0
 */
export interface RuleMatch {
  /**
   * Only messages of this type; every message when omitted.
   *
   * @default {undefined}
   */
  type?: string;
}

/**
 * The kinds of metric a rule can make.
 *
 * @since 0.1.0
 */
export type MetricKind = "counter" | "gauge" | "histogram";

/**
 * Turns messages into one metric.
 *
 * Fields are read with paths: `type`, `body`, `body.a.b` (array items by
 * index, `body.items.0`) and `headers.name`.
 *
 * @since 0.1.0
 */
export interface MetricRule {
  /** The metric's name, without prefix. */
  name: string;
  /** A counter adds, a gauge sets, a histogram observes. */
  kind: MetricKind;
  /**
   * Which messages count.
   *
   * @default {{}}
   */
  match?: RuleMatch;
  /**
   * Path of the numeric body field to use, such as `body.order.total`.
   * Required for gauges and histograms; a counter adds 1 when omitted.
   *
   * @default {undefined}
   */
  value?: string;
  /**
   * Tag (label) name to the path its value is read from, such as
   * `{ repo: "body.repository.full_name", type: "type" }`. A tag whose
   * field is missing, null or an object is left out.
   *
   * @default {{}}
   */
  tags?: Record<string, string>;
  /**
   * Upper bounds of the Prometheus histogram buckets.
   *
   * @default {[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]}
   */
  buckets?: number[];
}

/**
 * Options of the metrics publisher: at least one of `statsd` and
 * `prometheus`, and the rules.
 *
 * @since 0.1.0
 */
export interface MetricsOptions {
  /**
   * Send DogStatsD lines over UDP.
   *
   * @default {undefined}
   */
  statsd?: StatsdOptions;
  /**
   * Serve a Prometheus scrape endpoint.
   *
   * @default {undefined}
   */
  prometheus?: PrometheusOptions;
  /**
   * How messages become metrics.
   *
   * @default {[{ name: "messages", kind: "counter", tags: { type: "type" } }]}
   */
  rules?: MetricRule[];
}

/** Histogram buckets for rules that give none, as Prometheus clients use. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Histogram buckets, in milliseconds, for the latencies the package measures. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000,
  30000,
  60000,
];

/** Names the package records itself, which rules may not take. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "delivery_latency",
  "mapping_errors",
  "received",
  "delivered",
  "retried",
  "dead_lettered",
  "dropped",
  "destination_latency",
  "queue_depth",
  "queue_capacity",
  "statsd_send_errors",
  "series_dropped",
]);

const VALUE_PATH = /^body(\.[^.]+)*$/;
const TAG_PATH = /^(type|body(\.[^.]+)*|headers\..+)$/;

/**
 * A whole number in a range, also given as a numeric string, as values are
 * after `${VAR}` substitution in the configuration.
 */
function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (value) =>
      typeof value === "string" && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : value,
    z.int().min(min).max(max),
  );
}

const statsdSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: wholeNumber(1, 65535).default(8125),
  prefix: z.string().default("fanout."),
  tags: z.record(z.string().min(1), z.string()).default({}),
  maxPacketBytes: wholeNumber(64, 65507).default(1432),
  flushIntervalMs: wholeNumber(0, 60_000).default(10),
});

const prometheusSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: wholeNumber(0, 65535).default(9464),
  path: z.string().regex(/^\//, 'must start with "/"').default("/metrics"),
  prefix: z.string().default("fanout_"),
  maxSeries: wholeNumber(1).default(10_000),
});

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(["counter", "gauge", "histogram"]),
  match: z.strictObject({ type: z.string().min(1).optional() }).default({}),
  value: z.string().regex(
    VALUE_PATH,
    'must be a body path such as "body.order.total"',
  ).optional(),
  tags: z.record(
    z.string().min(1),
    z.string().regex(
      TAG_PATH,
      'must be "type", a body path such as "body.repository.full_name" or "headers.<name>"',
    ),
  ).default({}),
  buckets: z.array(z.number().refine(Number.isFinite, "must be finite"))
    .min(1).optional(),
}).superRefine((rule, ctx) => {
  if (rule.kind !== "counter" && rule.value === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["value"],
      message: `a ${rule.kind} needs a value path such as "body.total"`,
    });
  }
  if (rule.kind !== "histogram" && rule.buckets !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["buckets"],
      message: "only a histogram takes buckets",
    });
  }
  if (RESERVED_NAMES.has(sanitizePrometheusName(rule.name))) {
    ctx.addIssue({
      code: "custom",
      path: ["name"],
      message: `"${rule.name}" is a metric this package records itself`,
    });
  }
  if (rule.kind === "histogram") {
    for (const key of Object.keys(rule.tags)) {
      if (sanitizePrometheusLabelName(key) === "le") {
        ctx.addIssue({
          code: "custom",
          path: ["tags", key],
          message: 'a histogram cannot have a tag named "le"',
        });
      }
    }
  }
});

const DEFAULT_RULES = [{
  name: "messages",
  kind: "counter" as const,
  match: {},
  tags: { type: "type" },
}];

/**
 * The strict options schema, with every default filled in.
 */
export const metricsOptionsSchema = z.strictObject({
  statsd: statsdSchema.optional(),
  prometheus: prometheusSchema.optional(),
  rules: z.array(ruleSchema).default(DEFAULT_RULES),
}).superRefine((options, ctx) => {
  if (!options.statsd && !options.prometheus) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: 'set "statsd", "prometheus" or both',
    });
  }
  const seen = new Map<string, { kind: string; buckets: string }>();
  options.rules.forEach((rule, index) => {
    const name = sanitizePrometheusName(rule.name);
    const shape = { kind: rule.kind, buckets: String(rule.buckets ?? "") };
    const earlier = seen.get(name);
    if (
      earlier &&
      (earlier.kind !== shape.kind || earlier.buckets !== shape.buckets)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["rules", index, "name"],
        message:
          `"${rule.name}" is already a ${earlier.kind} with other settings`,
      });
    }
    seen.set(name, earlier ?? shape);
  });
});

/** The options after validation, every default filled in. */
export type ResolvedMetricsOptions = z.output<typeof metricsOptionsSchema>;
/** One rule after validation. */
export type ResolvedRule = ResolvedMetricsOptions["rules"][number];
/** The StatsD options after validation. */
export type ResolvedStatsdOptions = z.output<typeof statsdSchema>;
/** The Prometheus options after validation. */
export type ResolvedPrometheusOptions = z.output<typeof prometheusSchema>;
