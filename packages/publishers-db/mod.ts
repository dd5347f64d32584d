/**
 * A Fanout destination that stores every message as one row, keyed by its
 * id, in SQLite (the default, through Deno's built-in `node:sqlite`),
 * PostgreSQL or MariaDB. Writing the same id again adds nothing, so the
 * fan-out's retries and a source's redeliveries are safe; a body the
 * database refuses fails alone with a `PermanentError`; a lost connection
 * fails with a retryable error.
 *
 * The default export is the plugin definition the loader uses;
 * {@linkcode createDbPublisher} opens a publisher without the loader.
 *
 * @example Store messages in SQLite
 * ```ts
 * import { createMessage } from "@fanout/core";
 * import { createDbPublisher } from "@fanout/publishers-db";
 * import assert from "node:assert/strict";
 *
 * await using publisher = await createDbPublisher({ url: "sqlite::memory:" });
 * const result = await publisher.publishBatch([
 *   createMessage({ id: "order-1", type: "order.created", body: { total: 12 } }),
 *   createMessage({ id: "order-1", type: "order.created", body: { total: 12 } }),
 * ]);
 * assert.equal(result.failures.size, 0);
 * ```
 *
 * @module
 */
export { dbPlugin, dbPlugin as default } from "./src/plugin.ts";
export {
  createDbPublisher,
  DbPublisher,
  type DbPublisherInit,
} from "./src/db_publisher.ts";
export {
  dbOptionsSchema,
  type DbPublisherOptions,
  type DbTarget,
  DEFAULT_DB_URL,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TABLE,
  isTableName,
  parseDbUrl,
  resolveDbOptions,
  type ResolvedDbOptions,
} from "./src/options.ts";
export { MAX_ID_LENGTH, type MessageRow, toMessageRow } from "./src/rows.ts";
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
