import { z } from "zod";
import { numericString } from "@fanout/core";
import { BUILT_IN, BUILT_IN_TAGS, PROMETHEUS_ONLY } from "./built_in.ts";
import type { MetricDef, SeriesKind } from "./metric.ts";
import {
  prometheusExposedNames,
  prometheusFamilyName,
  statsdMetricName,
} from "./names.ts";
import {
  sanitizePrometheusLabelName,
  sanitizePrometheusName,
  sanitizeStatsdTagKey,
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
   * Tags added to every line, in the DogStatsD `|#key:value` form. A rule's
   * tag of the same name wins. Keys that become the same key once cleaned,
   * and `type`, `rule` or `destination` (the package's own tags), are
   * refused.
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
   * The most series kept for rules and the delivery latency; a new label
   * combination beyond it is not recorded and is counted in
   * `series_dropped_total`. The package's own series (fan-out events per
   * destination, queue, mapping and send errors) have a separate budget of
   * 1000 and are never crowded out by these.
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
  /**
   * The metric's name, without prefix. Refused when a name it exposes (with
   * `_total`, `_bucket`, `_sum` or `_count`) belongs to another metric.
   */
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
   * field is missing, null or an object is left out. Two names that become
   * the same Prometheus label name or StatsD tag key once cleaned are
   * refused.
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

/** Names the package records itself, which rules may not take. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(
  Object.values(BUILT_IN).map((def) => def.name),
);

const VALUE_PATH = /^body(\.[^.]+)*$/;
const TAG_PATH = /^(type|body(\.[^.]+)*|headers\..+)$/;

/**
 * A whole number in a range, also given as a numeric string, as values are
 * after `${VAR}` substitution in the configuration.
 */
function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(numericString, z.int().min(min).max(max));
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
  const refused = new Set<number>();
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
      refused.add(index);
    }
    seen.set(name, earlier ?? shape);
  });
  checkTagKeys(options, ctx);
  checkExposedNames(options, refused, ctx);
});

/** What the cross-field checks read of the options. */
interface CheckedOptions {
  statsd?: { prefix: string; tags: Record<string, string> } | undefined;
  prometheus?: { prefix: string } | undefined;
  rules: {
    name: string;
    kind: MetricKind;
    tags: Record<string, string>;
    buckets?: number[] | undefined;
  }[];
}

type Issues = z.RefinementCtx;

/**
 * Refuses tag names that become the same Prometheus label name or StatsD
 * tag key once sanitised, within a rule, among the global StatsD tags,
 * between a rule and a global tag of another spelling, and between a
 * global tag and the tags the package puts on its own metrics.
 */
function checkTagKeys(options: CheckedOptions, ctx: Issues): void {
  const globalKeys = new Map<string, string>();
  for (const key of Object.keys(options.statsd?.tags ?? {})) {
    const clean = sanitizeStatsdTagKey(key);
    const other = globalKeys.get(clean);
    if (other !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["statsd", "tags", key],
        message:
          `"${key}" and "${other}" both become the StatsD tag "${clean}"`,
      });
    } else if (BUILT_IN_TAGS.has(clean)) {
      ctx.addIssue({
        code: "custom",
        path: ["statsd", "tags", key],
        message:
          `"${key}" becomes the StatsD tag "${clean}", which this package sets itself on its own metrics`,
      });
    } else {
      globalKeys.set(clean, key);
    }
  }
  options.rules.forEach((rule, index) => {
    const labels = new Map<string, string>();
    const statsdKeys = new Map<string, string>();
    for (const key of Object.keys(rule.tags)) {
      const problem = (() => {
        if (options.prometheus) {
          const label = sanitizePrometheusLabelName(key);
          const other = labels.get(label);
          if (other !== undefined) {
            return `"${key}" and "${other}" both become the Prometheus label "${label}"`;
          }
          labels.set(label, key);
        }
        if (options.statsd) {
          const clean = sanitizeStatsdTagKey(key);
          const other = statsdKeys.get(clean);
          if (other !== undefined) {
            return `"${key}" and "${other}" both become the StatsD tag "${clean}"`;
          }
          statsdKeys.set(clean, key);
          const global = globalKeys.get(clean);
          if (global !== undefined && global !== key) {
            return `"${key}" becomes the StatsD tag "${clean}", as the global tag "${global}" does; name it "${global}" to override that tag`;
          }
        }
        return undefined;
      })();
      if (problem !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["rules", index, "tags", key],
          message: problem,
        });
      }
    }
  });
}

/**
 * Says which rules make one metric: those with the same exposed names,
 * kind and buckets. Rules with the same key share a metric; rules with
 * different keys never share an exposed name once the options are valid.
 *
 * @param options The validated options.
 * @param rule One of their rules.
 * @returns A text that is equal for rules that share a metric.
 */
export function ruleMetricKey(
  options: Pick<CheckedOptions, "statsd" | "prometheus">,
  rule: Pick<CheckedOptions["rules"][number], "name" | "kind" | "buckets">,
): string {
  return JSON.stringify([
    options.prometheus &&
    prometheusFamilyName(options.prometheus.prefix, rule.name, rule.kind),
    options.statsd && statsdMetricName(options.statsd.prefix, rule.name),
    rule.kind,
    ruleBuckets(rule),
  ]);
}

/**
 * The histogram buckets a rule uses, sorted and without repeats.
 *
 * @param rule The rule.
 * @returns Its bounds, or none for a counter or gauge.
 */
export function ruleBuckets(
  rule: Pick<CheckedOptions["rules"][number], "kind" | "buckets">,
): number[] {
  return rule.kind === "histogram"
    ? [...new Set(rule.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b)
    : [];
}

/**
 * Refuses a rule whose exposed names (the Prometheus family and histogram
 * sample names, the StatsD name) are already taken by a built-in metric or
 * by a rule that makes a different metric.
 */
function checkExposedNames(
  options: CheckedOptions,
  refused: ReadonlySet<number>,
  ctx: Issues,
): void {
  const owners = new Map<string, { key: string; rule?: string }>();
  const exposed = (name: string, kind: SeriesKind, statsd: boolean) => [
    ...(options.prometheus
      ? prometheusExposedNames(options.prometheus.prefix, name, kind).map(
        (sample) => ["Prometheus", sample] as const,
      )
      : []),
    ...(options.statsd && statsd
      ? [["StatsD", statsdMetricName(options.statsd.prefix, name)] as const]
      : []),
  ];
  for (const def of Object.values(BUILT_IN) as MetricDef[]) {
    for (const [output, name] of exposed(def.name, def.kind, true)) {
      if (output === "StatsD" && PROMETHEUS_ONLY.has(def)) continue;
      owners.set(`${output} ${name}`, { key: `built-in ${def.name}` });
    }
  }
  options.rules.forEach((rule, index) => {
    if (
      refused.has(index) ||
      RESERVED_NAMES.has(sanitizePrometheusName(rule.name))
    ) return;
    const key = ruleMetricKey(options, rule);
    const names = exposed(rule.name, rule.kind, true);
    for (const [output, name] of names) {
      const owner = owners.get(`${output} ${name}`);
      if (owner === undefined || owner.key === key) continue;
      ctx.addIssue({
        code: "custom",
        path: ["rules", index, "name"],
        message: owner.rule === undefined
          ? `"${rule.name}" would be exposed as the ${output} name "${name}", which is a metric this package records itself`
          : `"${rule.name}" would be exposed as the ${output} name "${name}", as ${owner.rule} is`,
      });
      return;
    }
    for (const [output, name] of names) {
      owners.set(`${output} ${name}`, {
        key,
        rule: `rule "${rule.name}" (rules[${index}])`,
      });
    }
  });
}

/** The options after validation, every default filled in. */
export type ResolvedMetricsOptions = z.output<typeof metricsOptionsSchema>;
/** One rule after validation. */
export type ResolvedRule = ResolvedMetricsOptions["rules"][number];
/** The StatsD options after validation. */
export type ResolvedStatsdOptions = z.output<typeof statsdSchema>;
/** The Prometheus options after validation. */
export type ResolvedPrometheusOptions = z.output<typeof prometheusSchema>;
