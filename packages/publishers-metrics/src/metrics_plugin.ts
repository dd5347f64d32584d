import {
  definePublisher,
  type PublisherPlugin,
  type StandardSchemaV1,
} from "@fanout/core";
import { createMetricsPublisher } from "./metrics_publisher.ts";
import { type MetricsOptions, metricsOptionsSchema } from "./options.ts";

/**
 * The `metrics` publisher plugin: the default export of
 * `@fanout/publishers-metrics`, loaded from a configuration file.
 *
 * @example Check the definition
 * ```ts
 * import metrics from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.name, "metrics");
 * assert.equal(metrics.capabilities?.batch, true);
 * ```
 *
 * @since 0.1.0
 */
const metricsPlugin: PublisherPlugin<MetricsOptions> = definePublisher({
  name: "metrics",
  options: metricsOptionsSchema as unknown as StandardSchemaV1<
    unknown,
    MetricsOptions
  >,
  capabilities: { batch: true },
  create: (options, context) =>
    createMetricsPublisher(options, {
      events: context.events,
      logger: context.logger,
      signal: context.signal,
    }),
});

export default metricsPlugin;
