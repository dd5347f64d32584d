import { definePublisher, type PublisherPlugin } from "@fanout/core";
import { createDbPublisher } from "./db_publisher.ts";
import { dbOptionsSchema, type ResolvedDbOptions } from "./options.ts";

/**
 * The database publisher plugin: the default export of
 * `@fanout/publishers-db`, named `db`, batching and idempotent.
 *
 * @example Check what the plugin declares
 * ```ts
 * import dbPlugin from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dbPlugin.name, "db");
 * assert.deepEqual(dbPlugin.capabilities, { batch: true, idempotent: true });
 * ```
 *
 * @since 0.1.0
 */
export const dbPlugin: PublisherPlugin<ResolvedDbOptions> = definePublisher({
  name: "db",
  options: dbOptionsSchema,
  capabilities: { batch: true, idempotent: true },
  create: (options, context) =>
    createDbPublisher(options, {
      baseDir: context.baseDir,
      logger: context.logger,
      destination: context.destination,
    }),
});
