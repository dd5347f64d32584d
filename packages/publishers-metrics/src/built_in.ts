import type { MetricDef } from "./metric.ts";

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

function timingDef(name: string, help: string, own: boolean): MetricDef {
  return { name, kind: "timing", help, buckets: LATENCY_BUCKETS_MS, own };
}

function counterDef(name: string, help: string): MetricDef {
  return { name, kind: "counter", help, buckets: [], own: true };
}

function gaugeDef(name: string, help: string): MetricDef {
  return { name, kind: "gauge", help, buckets: [], own: true };
}

/**
 * The metrics the package records itself. All but `deliveryLatency`, whose
 * `type` tag comes from the messages, have their own series budget.
 */
export const BUILT_IN = {
  deliveryLatency: timingDef(
    "delivery_latency",
    "Milliseconds from a message's production to its arrival here.",
    false,
  ),
  mappingErrors: counterDef(
    "mapping_errors",
    "Rule values that could not be a metric value and were not sent.",
  ),
  received: counterDef("received", "Messages handed to a destination."),
  delivered: counterDef("delivered", "Messages a destination took."),
  retried: counterDef("retried", "Failed attempts that were retried."),
  deadLettered: counterDef(
    "dead_lettered",
    "Messages a required destination gave up on.",
  ),
  dropped: counterDef(
    "dropped",
    "Messages a best-effort destination gave up on.",
  ),
  destinationLatency: timingDef(
    "destination_latency",
    "Milliseconds from a destination's first attempt to its success.",
    true,
  ),
  queueDepth: gaugeDef(
    "queue_depth",
    "Messages waiting in the fan-out's queue.",
  ),
  queueCapacity: gaugeDef("queue_capacity", "The fan-out queue's capacity."),
  statsdSendErrors: counterDef(
    "statsd_send_errors",
    "StatsD datagrams that could not be sent.",
  ),
  seriesDropped: counterDef(
    "series_dropped",
    "Samples not recorded because the series limit was reached.",
  ),
} as const satisfies Record<string, MetricDef>;

/** Built-in metrics that exist only in the Prometheus output. */
export const PROMETHEUS_ONLY: ReadonlySet<MetricDef> = new Set([
  BUILT_IN.statsdSendErrors,
  BUILT_IN.seriesDropped,
]);

/** Tag names the package puts on its own metrics. */
export const BUILT_IN_TAGS: ReadonlySet<string> = new Set([
  "type",
  "rule",
  "destination",
]);
