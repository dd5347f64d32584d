import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors.ts";
import { MAX_TIMER_MS, parsePolicy, type ResolvedPolicy } from "./policy.ts";
import { formatPath } from "./plugin.ts";

/**
 * One destination as written in the configuration.
 *
 * @since 0.1.0
 */
export interface PublisherConfig {
  /** The destination's name; defaults to the plugin's name when omitted. */
  readonly name?: string;
  /**
   * The plugin module: a workspace package name, a `jsr:` or `npm:`
   * specifier, or a path relative to the configuration file.
   */
  readonly use: string;
  /** The plugin's options, checked by the plugin's schema. */
  readonly options: unknown;
  /** The complete policy. */
  readonly policy: ResolvedPolicy;
  /** Where the entry stands, such as `publishers[1]`, for error messages. */
  readonly path: string;
}

/**
 * A checked configuration with every default filled in.
 *
 * @since 0.1.0
 */
export interface FanoutConfig {
  /** The configuration file, as given. */
  readonly file: string;
  /** Its directory, absolute: relative paths are resolved against it. */
  readonly baseDir: string;
  /** Where messages come from. */
  readonly source: {
    /** Only `memory` for now. */
    readonly type: "memory";
    /** The queue's capacity in messages. */
    readonly capacity: number;
  };
  /** How the consumer runs. */
  readonly consumer: {
    /** Messages in flight at once. */
    readonly concurrency: number;
    /** How long a shutdown lets work finish. */
    readonly drainTimeoutMs: number;
  };
  /** Where dead letters go. */
  readonly deadLetters: {
    /** The JSON lines file, absolute. */
    readonly path: string;
  };
  /** The destinations, in order. */
  readonly publishers: readonly PublisherConfig[];
}

/**
 * Options for {@linkcode loadConfig} and {@linkcode parseConfig}.
 *
 * @since 0.1.0
 */
export interface LoadConfigOptions {
  /**
   * Looks up `${VAR}` references.
   *
   * @default {(name) => Deno.env.get(name)}
   */
  env?: (name: string) => string | undefined;
}

const DEFAULTS = {
  capacity: 1000,
  concurrency: 64,
  drainTimeoutMs: 10_000,
  deadLetters: "./data/dead-letters.jsonl",
} as const;

/**
 * Reads, checks and completes a configuration file, YAML or JSON (by its
 * extension). `${VAR}` and `${VAR:-default}` in any string value take their
 * value from the environment; `$${` writes a literal `${`. Substituted
 * values stay strings; the numeric fields of core accept numeric strings.
 *
 * @example Load a configuration file
 * ```ts
 * import { loadConfig } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(file, "publishers:\n  - use: ./my_plugin.ts\n");
 * const config = await loadConfig(file);
 * assert.equal(config.publishers[0]?.policy.timeoutMs, 5000);
 * await Deno.remove(file);
 * ```
 *
 * @param file The configuration file's path.
 * @param options Where variables come from.
 * @returns The configuration.
 * @throws {ConfigError} Naming the file and the field, when the file
 * cannot be read or parsed, a field is unknown or invalid, or a variable
 * is not set.
 * @since 0.1.0
 */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<FanoutConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(
      file,
      "",
      `cannot read the file: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseConfig(text, file, options);
}

/**
 * Checks and completes a configuration given as text.
 *
 * @example Parse a configuration
 * ```ts
 * import { parseConfig } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const config = parseConfig(
 *   "publishers:\n  - use: ./log.ts\n    options: { path: '${LOG:-out.log}' }\n",
 *   "/etc/fanout/fanout.yaml",
 *   { env: () => undefined },
 * );
 * assert.deepEqual(config.publishers[0]?.options, { path: "out.log" });
 * ```
 *
 * @param text The file's content.
 * @param file The file's path: names the file in errors, chooses YAML or
 * JSON by extension, and is the base of relative paths.
 * @param options Where variables come from.
 * @returns The configuration.
 * @throws {ConfigError} Naming the file and the field.
 * @since 0.1.0
 */
export function parseConfig(
  text: string,
  file: string,
  options: LoadConfigOptions = {},
): FanoutConfig {
  const { env = (name: string) => Deno.env.get(name) } = options;
  // Values taken from the environment, by field, so that an error about
  // such a field never repeats them: they may be secrets.
  const fromEnv = new Map<string, string[]>();
  const fail = (path: string, problem: string, cause?: unknown): never => {
    for (const value of fromEnv.get(path) ?? []) {
      problem = problem.replaceAll(JSON.stringify(value).slice(1, -1), "***");
    }
    throw new ConfigError(
      file,
      path,
      problem,
      cause === undefined ? undefined : { cause },
    );
  };

  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === ".json"
      ? JSON.parse(text)
      : parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const kind = extname(file).toLowerCase() === ".json" ? "JSON" : "YAML";
    fail("", `invalid ${kind}: ${firstLine((error as Error).message)}`, error);
  }
  if (raw === null || raw === undefined) fail("", "the file is empty");

  const root = substitute(raw, [], env, fail, fromEnv);
  const top = asMap(root, "", fail);
  checkKeys(top, ["source", "consumer", "deadLetters", "publishers"], "", fail);
  const baseDir = dirname(resolve(file));

  const source = asMap(top.source ?? {}, "source", fail);
  checkKeys(source, ["type", "capacity"], "source", fail);
  const type = source.type ?? "memory";
  if (type !== "memory") {
    fail(
      "source.type",
      `unknown source ${JSON.stringify(type)}; expected "memory"`,
    );
  }
  const capacity = integer(
    source.capacity,
    DEFAULTS.capacity,
    1,
    "source.capacity",
    fail,
  );

  const consumer = asMap(top.consumer ?? {}, "consumer", fail);
  checkKeys(consumer, ["concurrency", "drainTimeoutMs"], "consumer", fail);
  const concurrency = integer(
    consumer.concurrency,
    DEFAULTS.concurrency,
    1,
    "consumer.concurrency",
    fail,
  );
  const drainTimeoutMs = integer(
    consumer.drainTimeoutMs,
    DEFAULTS.drainTimeoutMs,
    0,
    "consumer.drainTimeoutMs",
    fail,
    MAX_TIMER_MS,
  );

  const deadLetters = asMap(top.deadLetters ?? {}, "deadLetters", fail);
  checkKeys(deadLetters, ["path"], "deadLetters", fail);
  const deadPath = deadLetters.path ?? DEFAULTS.deadLetters;
  if (typeof deadPath !== "string" || deadPath === "") {
    fail("deadLetters.path", "must be a non-empty string");
  }

  if (!Array.isArray(top.publishers) || top.publishers.length === 0) {
    fail("publishers", "must be a list with at least one publisher");
  }
  const names = new Map<string, string>();
  const publishers = (top.publishers as unknown[]).map((entry, index) => {
    const path = `publishers[${index}]`;
    const map = asMap(entry, path, fail);
    checkKeys(map, ["name", "use", "options", "policy"], path, fail);
    if (typeof map.use !== "string" || map.use.trim() === "") {
      fail(
        `${path}.use`,
        'must be a module specifier, such as "@fanout/publishers-log" or "./my_plugin.ts"',
      );
    }
    if (map.name !== undefined) {
      if (typeof map.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(map.name)) {
        fail(`${path}.name`, "must be letters, digits, '_', '.' or '-'");
      }
      const earlier = names.get(map.name as string);
      if (earlier) {
        fail(`${path}.name`, `"${map.name}" is already used by ${earlier}`);
      }
      names.set(map.name as string, path);
    }
    const policy = parsePolicy(map.policy);
    if (!policy.ok) {
      const first = policy.problems[0]!;
      fail(
        first.field ? `${path}.policy.${first.field}` : `${path}.policy`,
        first.problem,
      );
    }
    return {
      ...(map.name === undefined ? {} : { name: map.name as string }),
      use: (map.use as string).trim(),
      options: map.options ?? {},
      policy: (policy as { policy: ResolvedPolicy }).policy,
      path,
    };
  });

  return {
    file,
    baseDir,
    source: { type: "memory", capacity },
    consumer: { concurrency, drainTimeoutMs },
    deadLetters: { path: resolve(baseDir, deadPath as string) },
    publishers,
  };
}

type Fail = (path: string, problem: string, cause?: unknown) => never;

function substitute(
  value: unknown,
  path: PropertyKey[],
  env: (name: string) => string | undefined,
  fail: Fail,
  fromEnv: Map<string, string[]>,
): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$(\$)?\{([^}]*)\}/g,
      (whole, escaped: string | undefined, inner: string) => {
        if (escaped) return whole.slice(1);
        const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner);
        if (!match) {
          fail(
            formatPath(path),
            `"\${${inner}}" is not a variable reference; write \${NAME} or \${NAME:-default}`,
          );
        }
        const [, name, fallback] = match!;
        const found = env(name!);
        if (found !== undefined && found !== "") {
          const field = formatPath(path);
          fromEnv.set(field, [...fromEnv.get(field) ?? [], found]);
          return found;
        }
        if (fallback !== undefined) return fallback;
        return fail(
          formatPath(path),
          `environment variable "${name}" is not set`,
        );
      },
    );
  }
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      substitute(item, [...path, i], env, fail, fromEnv)
    );
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map((
        [key, item],
      ) => [key, substitute(item, [...path, key], env, fail, fromEnv)]),
    );
  }
  return value;
}

function asMap(
  value: unknown,
  path: string,
  fail: Fail,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value)
      ? "a list"
      : value === null
      ? "null"
      : `a ${typeof value}`;
    return fail(path, `must be a map, got ${kind}`);
  }
  return value as Record<string, unknown>;
}

function checkKeys(
  map: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  fail: Fail,
): void {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key)) {
      fail(
        path ? `${path}.${key}` : key,
        `unknown field; expected one of ${allowed.join(", ")}`,
      );
    }
  }
}

function integer(
  raw: unknown,
  fallback: number,
  min: number,
  path: string,
  fail: Fail,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" && raw.trim() !== ""
    ? Number(raw)
    : raw;
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) || value < min ||
    value > max
  ) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `of at least ${min}`
      : `from ${min} to ${max}`;
    return fail(
      path,
      `must be a whole number ${range}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
