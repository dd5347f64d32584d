/**
 * Fanout's core: the {@linkcode Publisher} contract, the fan-out composite
 * that sends each message to every destination at once with failures kept
 * apart, the bounded queue consumer, configuration and plugin loading.
 *
 * @example Fan one message out to two destinations
 * ```ts
 * import { createMessage, FanOutPublisher, type Publisher } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const got: string[] = [];
 * const sink = (name: string): Publisher => ({
 *   publish: (m) => {
 *     got.push(`${name}:${m.id}`);
 *     return Promise.resolve();
 *   },
 *   close: () => Promise.resolve(),
 * });
 *
 * await using fanOut = new FanOutPublisher([
 *   { name: "a", publisher: sink("a") },
 *   { name: "b", publisher: sink("b") },
 * ]);
 * const report = await fanOut.deliver(createMessage({ id: "m1", body: {} }));
 * assert.ok(report.ok);
 * assert.deepEqual(got.sort(), ["a:m1", "b:m1"]);
 * ```
 *
 * @module
 */
export * from "./src/message.ts";
export * from "./src/publisher.ts";
export * from "./src/errors.ts";
export * from "./src/events.ts";
export {
  definePublisher,
  isPublisherPlugin,
  numericString,
  type PluginCapabilities,
  type PluginContext,
  type PublisherPlugin,
  type SchemaIssue,
  validateWithSchema,
} from "./src/plugin.ts";
export * from "./src/standard_schema.ts";
export * from "./src/logger.ts";
export * from "./src/policy.ts";
export * from "./src/fan_out.ts";
export * from "./src/source.ts";
export * from "./src/memory_queue.ts";
export * from "./src/dead_letter.ts";
export * from "./src/stats.ts";
export * from "./src/consumer.ts";
export * from "./src/config.ts";
export * from "./src/loader.ts";
