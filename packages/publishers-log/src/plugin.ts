import {
  definePublisher,
  type PublisherPlugin,
  type StandardSchemaV1,
} from "@fanout/core";
import { createLogPublisher } from "./log_publisher.ts";
import { logOptionsSchema, type LogPublisherOptions } from "./options.ts";

/**
 * The log publisher plugin: the default export of
 * `@fanout/publishers-log`. It validates the options with a strict schema
 * that fills in every default, then opens the target.
 *
 * @example Load the plugin by hand
 * ```ts
 * import { EventHub, validateWithSchema } from "@fanout/core";
 * import { getLogger } from "@logtape/logtape";
 * import plugin from "@fanout/publishers-log";
 * import assert from "node:assert/strict";
 *
 * const checked = await validateWithSchema(plugin.options, { format: "json" });
 * assert.ok(checked.ok);
 * const publisher = await plugin.create(checked.value, {
 *   destination: "log",
 *   logger: getLogger(["fanout", "publishers", "log"]),
 *   signal: new AbortController().signal,
 *   events: new EventHub(),
 *   baseDir: Deno.cwd(),
 * });
 * await publisher.close?.();
 * ```
 *
 * @since 0.1.0
 */
const logPlugin: PublisherPlugin<LogPublisherOptions> = definePublisher({
  name: "log",
  // The schema's output has every default filled, which is a valid
  // LogPublisherOptions; zod types an absent key as `undefined`.
  options: logOptionsSchema as unknown as StandardSchemaV1<
    unknown,
    LogPublisherOptions
  >,
  capabilities: { batch: true },
  create: (options, context) =>
    createLogPublisher(options, {
      baseDir: context.baseDir,
      destination: context.destination,
      logger: context.logger,
    }),
});

export default logPlugin;
