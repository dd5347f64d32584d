import { z } from "zod";
import { numericString } from "@fanout/core";
import { parseRedactPath } from "./redact.ts";

/** Where the log lines go. */
const DEFAULT_TARGET = "stdout";
/** How each line is written. */
const DEFAULT_FORMAT = "pretty";
/** 64 KiB. */
const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** 10 MiB. */
const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;
/** 1 MiB. */
const DEFAULT_BUFFER_BYTES = 1024 * 1024;

/** The smallest line limit: room for the header fields and the marker. */
export const MIN_LINE_BYTES = 128;

/**
 * The options of the log publisher, as written in the configuration.
 *
 * @since 0.1.0
 */
export interface LogPublisherOptions {
  /**
   * Where lines are written: the process's standard output, its standard
   * error, or the file named by `path`.
   *
   * @default {"stdout"}
   */
  target?: "stdout" | "stderr" | "file";
  /**
   * The log file when `target` is `"file"`, resolved against the directory
   * of the configuration file. Its parent directory is created. Allowed only
   * with the file target.
   */
  path?: string;
  /**
   * `"pretty"` writes human text; `"json"` writes one JSON object per line.
   *
   * @default {"pretty"}
   */
  format?: "pretty" | "json";
  /**
   * Field paths whose values are written as `"[REDACTED]"`, such as
   * `body.password`, `headers.authorization` or `body.items[*].secret`.
   * A `*` matches any key or index at one level; header names match
   * whatever their case.
   *
   * @default {[]}
   */
  redact?: readonly string[];
  /**
   * The longest line in UTF-8 bytes, without its newline. A longer line is
   * cut and marked; see the README for how each format is cut.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * The size in bytes a log file may reach before it is rotated. Only for
   * the file target.
   *
   * @default {10485760}
   */
  maxFileBytes?: number;
  /**
   * How many rotated files (`app.log.1` … `app.log.N`) are kept. `0` keeps
   * none: the file starts over empty. Only for the file target.
   *
   * @default {5}
   */
  maxFiles?: number;
  /**
   * How many bytes of lines may wait for the writer. `publish` waits only
   * when this is full.
   *
   * @default {1048576}
   */
  bufferBytes?: number;
}

/** The options with every default filled in. */
export interface ResolvedLogOptions {
  readonly target: "stdout" | "stderr" | "file";
  readonly path?: string;
  readonly format: "pretty" | "json";
  readonly redact: readonly string[];
  readonly maxLineBytes: number;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly bufferBytes: number;
}

const redactPath = z.string().check((ctx) => {
  try {
    parseRedactPath(ctx.value);
  } catch (error) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: error instanceof Error ? error.message : String(error),
    });
  }
});

/** The zod schema the loader checks the options with. */
export const logOptionsSchema = z.strictObject({
  target: z.enum(["stdout", "stderr", "file"]).default(DEFAULT_TARGET),
  path: z.string().min(1).optional(),
  format: z.enum(["pretty", "json"]).default(DEFAULT_FORMAT),
  redact: z.array(redactPath).default([]),
  maxLineBytes: z.preprocess(
    numericString,
    z.int().min(MIN_LINE_BYTES).max(2 ** 30),
  ).default(
    DEFAULT_MAX_LINE_BYTES,
  ),
  maxFileBytes: z.preprocess(numericString, z.int().min(1)).default(
    DEFAULT_MAX_FILE_BYTES,
  ),
  maxFiles: z.preprocess(numericString, z.int().min(0).max(1000)).default(
    DEFAULT_MAX_FILES,
  ),
  bufferBytes: z.preprocess(numericString, z.int().min(1).max(2 ** 30))
    .default(DEFAULT_BUFFER_BYTES),
}).check((ctx) => {
  const { target, path } = ctx.value;
  if (target === "file" && path === undefined) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      path: ["path"],
      message: 'is required when target is "file"',
    });
  }
  if (target !== "file" && path !== undefined) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      path: ["path"],
      message: `is allowed only when target is "file", not "${target}"`,
    });
  }
});

/**
 * Checks options and fills in the defaults, for callers that bypass the
 * loader.
 *
 * @param options The options as given.
 * @returns The options with defaults.
 * @throws {RangeError} If a number is out of range.
 * @throws {TypeError} If an option has the wrong type or is unknown.
 */
export function resolveLogOptions(options: unknown): ResolvedLogOptions {
  const result = logOptionsSchema.safeParse(options ?? {});
  if (result.success) {
    const { path, ...rest } = result.data;
    return path === undefined ? rest : { ...rest, path };
  }

  const problems = result.error.issues.map((issue) => {
    const where = issue.path.map(String).join(".");
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  const message = `Cannot create log publisher: ${problems.join("; ")}`;
  const outOfRange = result.error.issues.every((issue) =>
    issue.code === "too_small" || issue.code === "too_big"
  );
  throw outOfRange ? new RangeError(message) : new TypeError(message);
}
