/**
 * A Fanout destination that turns messages into metrics, sent as DogStatsD
 * lines over UDP, served on a Prometheus endpoint, or both. Rules in the
 * options map messages to counters, gauges and histograms; the fan-out's own
 * events become per-destination series.
 *
 * @example Serve message counts to Prometheus
 * ```ts
 * import { createMetricsPublisher } from "@fanout/publishers-metrics";
 * import { createMessage } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * await using metrics = await createMetricsPublisher({ prometheus: { port: 0 } });
 * await metrics.publish(createMessage({ type: "order.created", body: {} }));
 *
 * const response = await fetch(`http://127.0.0.1:${metrics.prometheusPort}/metrics`);
 * const text = await response.text();
 * assert.match(text, /fanout_messages_total\{type="order.created"\} 1/);
 * ```
 *
 * @module
 */
export { default } from "./src/metrics_plugin.ts";
export {
  createMetricsPublisher,
  type MetricsPublisher,
  type MetricsPublisherContext,
} from "./src/metrics_publisher.ts";
export type {
  MetricKind,
  MetricRule,
  MetricsOptions,
  PrometheusOptions,
  RuleMatch,
  StatsdOptions,
} from "./src/options.ts";
export {
  escapePrometheusLabelValue,
  sanitizePrometheusLabelName,
  sanitizePrometheusName,
  sanitizeStatsdName,
  sanitizeStatsdTagKey,
  sanitizeStatsdTagValue,
} from "./src/sanitize.ts";
// Core types that appear in this package's signatures, so that its
// documentation is complete on its own.
export type {
  BatchResult,
  FanOutEvent,
  FanOutEvents,
  FanOutListener,
  JsonValue,
  Message,
  PluginCapabilities,
  PluginContext,
  PluginLogger,
  Publisher,
  PublisherPlugin,
  PublishOptions,
  StandardIssue,
  StandardPathSegment,
  StandardResult,
  StandardSchemaProps,
  StandardSchemaV1,
  StandardTypes,
} from "@fanout/core";
