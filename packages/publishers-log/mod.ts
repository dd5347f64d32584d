/**
 * A Fanout destination that writes one line per message to standard
 * output, standard error or a rotating file, as human text or JSON lines,
 * with field redaction and a line size limit. Writes go through a bounded
 * asynchronous buffer, so a slow terminal or disk slows only this
 * destination.
 *
 * The default export is the plugin that the configuration names with
 * `use: "@fanout/publishers-log"`; {@linkcode createLogPublisher} makes the
 * same publisher without the loader, and {@linkcode formatEvent} turns
 * core's fan-out events into text.
 *
 * @example Log messages as JSON lines to a file
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { createLogPublisher } from "@fanout/publishers-log";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * {
 *   await using log = await createLogPublisher(
 *     { target: "file", path: "logs/app.log", format: "json", redact: ["body.password"] },
 *     { baseDir: dir },
 *   );
 *   await log.publish(createMessage({ id: "m1", body: { user: "ada", password: "x" } }));
 * }
 * const text = await Deno.readTextFile(`${dir}/logs/app.log`);
 * assert.equal(JSON.parse(text).body.password, "[REDACTED]");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export { default } from "./src/plugin.ts";
export {
  createLogPublisher,
  type LogPublisher,
  type LogPublisherContext,
} from "./src/log_publisher.ts";
export type { LogPublisherOptions } from "./src/options.ts";
export { formatEvent } from "./src/format_event.ts";
// Core's types that appear in this package's signatures, for the docs.
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
