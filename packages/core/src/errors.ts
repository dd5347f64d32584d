const PERMANENT = Symbol.for("@fanout/core/PermanentError");
const FAN_OUT = Symbol.for("@fanout/core/FanOutError");
const PLUGIN_LOAD = Symbol.for("@fanout/core/PluginLoadError");
const CONFIG = Symbol.for("@fanout/core/ConfigError");
const CLOSED = Symbol.for("@fanout/core/ClosedError");

function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[brand] === true;
}

/**
 * Thrown by a publisher to say that retrying cannot help, such as for a body
 * the destination refuses. The fan-out gives up on that destination at once.
 *
 * @example Refuse a message for good
 * ```ts
 * import { PermanentError } from "@fanout/core";
 *
 * const error = new PermanentError("Cannot store message \"m1\": body is 2 MiB, limit is 1 MiB");
 * ```
 *
 * @since 0.1.0
 */
export class PermanentError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was refused and why.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
    Object.defineProperty(this, PERMANENT, { value: true });
  }
}

/**
 * Tells whether an error says that retrying cannot help. Works across copies
 * of this package, where `instanceof` would not.
 *
 * @example Check an error
 * ```ts
 * import { isPermanentError, PermanentError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPermanentError(new PermanentError("no")));
 * assert.ok(!isPermanentError(new Error("maybe later")));
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a {@linkcode PermanentError}.
 * @since 0.1.0
 */
export function isPermanentError(error: unknown): error is PermanentError {
  return hasBrand(error, PERMANENT);
}

/**
 * One destination that did not take a message.
 *
 * @since 0.1.0
 */
export interface DestinationFailure {
  /** The destination's name. */
  readonly destination: string;
  /** The last error it gave. */
  readonly error: unknown;
  /** How many times it was tried. */
  readonly attempts: number;
}

/**
 * Thrown by `FanOutPublisher.publish()` when one or more required
 * destinations failed; holds each destination's error.
 *
 * @example Read the failures
 * ```ts
 * import { FanOutError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const error = new FanOutError("m1", [
 *   { destination: "db", error: new Error("down"), attempts: 3 },
 * ]);
 * assert.equal(error.failures[0]?.destination, "db");
 * ```
 *
 * @since 0.1.0
 */
export class FanOutError extends AggregateError {
  /** The message that was not delivered everywhere. */
  readonly messageId: string;
  /** Each required destination that failed. */
  readonly failures: readonly DestinationFailure[];

  /**
   * Makes the error.
   *
   * @param messageId The message.
   * @param failures The destinations that failed.
   */
  constructor(messageId: string, failures: readonly DestinationFailure[]) {
    const names = failures.map((f) => `"${f.destination}"`).join(", ");
    super(
      failures.map((f) => f.error),
      `Cannot deliver message "${messageId}": failed at ${names}`,
    );
    this.name = "FanOutError";
    this.messageId = messageId;
    this.failures = failures;
    Object.defineProperty(this, FAN_OUT, { value: true });
  }
}

/**
 * Tells whether an error is a {@linkcode FanOutError}, across package copies.
 *
 * @example Check an error
 * ```ts
 * import { FanOutError, isFanOutError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isFanOutError(new FanOutError("m1", [])));
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a {@linkcode FanOutError}.
 * @since 0.1.0
 */
export function isFanOutError(error: unknown): error is FanOutError {
  return hasBrand(error, FAN_OUT);
}

/**
 * Thrown when the configuration cannot be read or is not valid. `file` and
 * `path` point at the offending place.
 *
 * @example Name the place
 * ```ts
 * import { ConfigError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const error = new ConfigError("fanout.yaml", "publishers[0].use", "must be a string");
 * assert.equal(error.message, "fanout.yaml: publishers[0].use: must be a string");
 * ```
 *
 * @since 0.1.0
 */
export class ConfigError extends Error {
  /** The configuration file. */
  readonly file: string;
  /** The path of the field, such as `publishers[1].options.path`; empty for the whole file. */
  readonly path: string;

  /**
   * Makes the error.
   *
   * @param file The configuration file.
   * @param path The path of the field, or an empty string for the whole file.
   * @param problem What is wrong with it.
   * @param options The underlying cause, if any.
   */
  constructor(
    file: string,
    path: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(
      path ? `${file}: ${path}: ${problem}` : `${file}: ${problem}`,
      options,
    );
    this.name = "ConfigError";
    this.file = file;
    this.path = path;
    Object.defineProperty(this, CONFIG, { value: true });
  }
}

/**
 * Tells whether an error is a {@linkcode ConfigError}, across package copies.
 *
 * @example Check an error
 * ```ts
 * import { ConfigError, isConfigError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isConfigError(new ConfigError("a.yaml", "", "empty")));
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a {@linkcode ConfigError}.
 * @since 0.1.0
 */
export function isConfigError(error: unknown): error is ConfigError {
  return hasBrand(error, CONFIG);
}

/**
 * Thrown when a publisher plugin cannot be imported, has no valid definition,
 * or refuses its options. It is a {@linkcode ConfigError} that also names the
 * module specifier.
 *
 * @example Name the plugin
 * ```ts
 * import { PluginLoadError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const error = new PluginLoadError("fanout.yaml", "publishers[0].use", "./nope.ts", "module not found");
 * assert.equal(error.specifier, "./nope.ts");
 * ```
 *
 * @since 0.1.0
 */
export class PluginLoadError extends ConfigError {
  /** The module specifier as written in the configuration. */
  readonly specifier: string;

  /**
   * Makes the error.
   *
   * @param file The configuration file.
   * @param path The path of the field.
   * @param specifier The module specifier.
   * @param problem What went wrong.
   * @param options The underlying cause, if any.
   */
  constructor(
    file: string,
    path: string,
    specifier: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(file, path, `Cannot load plugin "${specifier}": ${problem}`, options);
    this.name = "PluginLoadError";
    this.specifier = specifier;
    Object.defineProperty(this, PLUGIN_LOAD, { value: true });
  }
}

/**
 * Tells whether an error is a {@linkcode PluginLoadError}, across package
 * copies.
 *
 * @example Check an error
 * ```ts
 * import { isPluginLoadError, PluginLoadError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPluginLoadError(new PluginLoadError("a.yaml", "x", "y", "z")));
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a {@linkcode PluginLoadError}.
 * @since 0.1.0
 */
export function isPluginLoadError(error: unknown): error is PluginLoadError {
  return hasBrand(error, PLUGIN_LOAD);
}

/**
 * Thrown when work is offered to a queue or consumer that has been closed.
 *
 * @example Check an error
 * ```ts
 * import { ClosedError } from "@fanout/core";
 *
 * const error = new ClosedError("Cannot push message \"m1\": the queue is closed");
 * ```
 *
 * @since 0.1.0
 */
export class ClosedError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was attempted.
   */
  constructor(message: string) {
    super(message);
    this.name = "ClosedError";
    Object.defineProperty(this, CLOSED, { value: true });
  }
}

/**
 * Tells whether an error is a {@linkcode ClosedError}, across package copies.
 *
 * @example Check an error
 * ```ts
 * import { ClosedError, isClosedError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isClosedError(new ClosedError("closed")));
 * ```
 *
 * @param error Any thrown value.
 * @returns Whether it is a {@linkcode ClosedError}.
 * @since 0.1.0
 */
export function isClosedError(error: unknown): error is ClosedError {
  return hasBrand(error, CLOSED);
}

/**
 * Turns any thrown value into a one-line description for reports and dead
 * letters, keeping the error's name.
 *
 * @example Describe an error
 * ```ts
 * import { describeError } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeError(new TypeError("bad")), "TypeError: bad");
 * ```
 *
 * @param error Any thrown value.
 * @returns A single line.
 * @since 0.1.0
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`.replaceAll("\n", " ");
  }
  return String(error).replaceAll("\n", " ");
}
