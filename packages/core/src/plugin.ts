import type { PluginLogger } from "./logger.ts";
import type {
  StandardPathSegment,
  StandardSchemaV1,
} from "./standard_schema.ts";
import type { FanOutEvents } from "./events.ts";
import type { Publisher } from "./publisher.ts";

const PLUGIN = Symbol.for("@fanout/core/PublisherPlugin");

/**
 * What a plugin's factory receives besides its options.
 *
 * @since 0.1.0
 */
export interface PluginContext {
  /** The destination's name in the configuration, such as `db`. */
  readonly destination: string;
  /** The logger to use; its category is named after the plugin. */
  readonly logger: PluginLogger;
  /** Aborted when the worker shuts down. */
  readonly signal: AbortSignal;
  /** The fan-out's events, for plugins that observe delivery itself. */
  readonly events: FanOutEvents;
  /** The directory that relative paths in the options are resolved against. */
  readonly baseDir: string;
}

/**
 * What a plugin declares it can do.
 *
 * @since 0.1.0
 */
export interface PluginCapabilities {
  /**
   * The publisher implements `publishBatch`.
   *
   * @default {false}
   */
  readonly batch?: boolean;
  /**
   * Delivering the same message id twice has the effect of delivering it
   * once.
   *
   * @default {false}
   */
  readonly idempotent?: boolean;
}

/**
 * A publisher plugin: the default export of a plugin module.
 *
 * @typeParam Options The options after validation.
 * @since 0.1.0
 */
export interface PublisherPlugin<Options = unknown> {
  /** The plugin's name, such as `db`. */
  readonly name: string;
  /** Checks and converts the options written in the configuration. */
  readonly options: StandardSchemaV1<unknown, Options>;
  /** What the publisher can do. */
  readonly capabilities?: PluginCapabilities;
  /**
   * Makes the publisher.
   *
   * @param options The validated options.
   * @param context The logger, signal, events and base directory.
   */
  create(
    options: Options,
    context: PluginContext,
  ): Publisher | Promise<Publisher>;
}

/**
 * Marks a plugin definition so that the loader recognises it, and freezes it.
 *
 * @example A plugin that counts messages
 * ```ts
 * import { definePublisher, type StandardSchemaV1 } from "@fanout/core";
 *
 * const noOptions: StandardSchemaV1<unknown, Record<string, never>> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: () => ({ value: {} }),
 *   },
 * };
 *
 * let count = 0;
 * export default definePublisher({
 *   name: "counter",
 *   options: noOptions,
 *   create: () => ({
 *     publish: () => {
 *       count++;
 *       return Promise.resolve();
 *     },
 *     close: () => Promise.resolve(),
 *   }),
 * });
 * ```
 *
 * @typeParam Options The validated options.
 * @param definition The plugin.
 * @returns The same definition, marked and frozen.
 * @throws {TypeError} If the name is empty, or `options` or `create` is
 * missing.
 * @since 0.1.0
 */
export function definePublisher<Options>(
  definition: PublisherPlugin<Options>,
): PublisherPlugin<Options> {
  const problem = pluginProblem(definition);
  if (problem) throw new TypeError(`Cannot define publisher: ${problem}`);
  return Object.freeze(
    Object.defineProperty({ ...definition }, PLUGIN, { value: true }),
  );
}

/**
 * Tells why a value is not a valid plugin definition.
 *
 * @param value Anything.
 * @returns The problem, or `undefined` when it is valid.
 */
export function pluginProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) {
    return `expected an object, got ${value === null ? "null" : typeof value}`;
  }
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.name !== "string" || candidate.name.length === 0) {
    return "name must be a non-empty string";
  }
  const schema = candidate.options as
    | { "~standard"?: { validate?: unknown } }
    | undefined;
  if (typeof schema?.["~standard"]?.validate !== "function") {
    return `plugin "${candidate.name}": options must be a Standard Schema (zod, valibot, arktype or your own)`;
  }
  if (typeof candidate.create !== "function") {
    return `plugin "${candidate.name}": create must be a function`;
  }
  return undefined;
}

/**
 * Tells whether a value is a valid plugin definition, whether or not it came
 * through {@linkcode definePublisher}.
 *
 * @example Check a module's export
 * ```ts
 * import { isPublisherPlugin } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(!isPublisherPlugin({ name: "x" }));
 * ```
 *
 * @param value Anything.
 * @returns Whether the loader can use it.
 * @since 0.1.0
 */
export function isPublisherPlugin(value: unknown): value is PublisherPlugin {
  return pluginProblem(value) === undefined;
}

/**
 * One problem a schema found, with the path of the field.
 *
 * @since 0.1.0
 */
export interface SchemaIssue {
  /** Dotted path such as `rules[0].name`; empty for the value itself. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

/**
 * Runs a Standard Schema and returns either the value or its issues.
 *
 * @example Validate with a hand-written schema
 * ```ts
 * import { type StandardSchemaV1, validateWithSchema } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const positive: StandardSchemaV1<unknown, number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) =>
 *       typeof v === "number" && v > 0
 *         ? { value: v }
 *         : { issues: [{ message: "must be a positive number" }] },
 *   },
 * };
 * const result = await validateWithSchema(positive, -1);
 * assert.deepEqual(result, { ok: false, issues: [{ path: "", message: "must be a positive number" }] });
 * ```
 *
 * @typeParam T The validated type.
 * @param schema The schema.
 * @param value The value to check.
 * @returns The value or the issues.
 * @since 0.1.0
 */
export async function validateWithSchema<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): Promise<
  { ok: true; value: T } | { ok: false; issues: readonly SchemaIssue[] }
> {
  const result = await schema["~standard"].validate(value);
  if (!result.issues) return { ok: true, value: result.value };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: formatPath(issue.path ?? []),
      message: issue.message,
    })),
  };
}

/**
 * Joins path segments the way configuration errors show them:
 * `publishers[1].options.path`.
 *
 * @param segments Keys and indexes, or Standard Schema path segments.
 * @returns The dotted path.
 */
export function formatPath(
  segments: ReadonlyArray<PropertyKey | StandardPathSegment>,
): string {
  let out = "";
  for (const segment of segments) {
    const key = typeof segment === "object" ? segment.key : segment;
    if (typeof key === "number") {
      out += `[${key}]`;
    } else {
      const name = String(key);
      out += /^[A-Za-z_$][\w$]*$/.test(name)
        ? (out ? `.${name}` : name)
        : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

/**
 * Turns a string of digits into the number it spells and leaves any other
 * value as it is. Values substituted from `${VAR}` in a configuration are
 * strings, so a plugin's numeric options can accept them by running this
 * first, as with zod's `z.preprocess(numericString, z.int())`.
 *
 * @example Accept a port from the environment
 * ```ts
 * import { numericString } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(numericString(" 8125 "), 8125);
 * assert.equal(numericString("-3"), -3);
 * assert.equal(numericString("12ab"), "12ab");
 * assert.equal(numericString(true), true);
 * ```
 *
 * @param value Any option value.
 * @returns The number, or the value unchanged.
 * @since 0.1.0
 */
export function numericString(value: unknown): unknown {
  return typeof value === "string" && /^\s*-?\d+\s*$/.test(value)
    ? Number(value)
    : value;
}
