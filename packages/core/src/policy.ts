/**
 * How the fan-out treats one destination. The same field means the same
 * thing for every plugin.
 *
 * @since 0.1.0
 */
export interface DestinationPolicy {
  /**
   * How long one attempt may take before it is cancelled through its signal
   * and counted as failed.
   *
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * How many attempts in all, the first included, before the destination
   * gives up on a message.
   *
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * The first delay between attempts; later delays grow exponentially with
   * jitter.
   *
   * @default {100}
   */
  backoffMs?: number;
  /**
   * The longest delay between two attempts.
   *
   * @default {5000}
   */
  maxBackoffMs?: number;
  /**
   * Whether the message must reach this destination before it counts as
   * delivered. A best-effort destination that gives up drops the message
   * there (counted) instead of dead-lettering it.
   *
   * @default {true}
   */
  required?: boolean;
  /**
   * The most messages handed to `publishBatch` at once. Above 1, and when
   * the publisher has `publishBatch`, messages are gathered into batches.
   *
   * @default {1}
   */
  batchSize?: number;
  /**
   * How long a partial batch waits for more messages before it is sent.
   *
   * @default {10}
   */
  lingerMs?: number;
  /**
   * How many calls to this destination may run at once (single messages,
   * or batches when batching).
   *
   * @default {8}
   */
  concurrency?: number;
  /**
   * How many messages may wait in this destination's own buffer. The
   * buffer is what keeps a slow destination from holding up the others.
   *
   * @default {1000}
   */
  bufferSize?: number;
  /**
   * What to do with a message when the buffer is full: `block` waits for
   * room, which slows intake for every destination (backpressure);
   * `drop` gives the message up at this destination at once, counted, and
   * dead-lettered when the destination is required.
   *
   * @default {"block" when required, "drop" when best-effort}
   */
  whenFull?: "block" | "drop";
}

/**
 * A policy with every field filled in.
 *
 * @since 0.1.0
 */
export type ResolvedPolicy = Readonly<Required<DestinationPolicy>>;

/** The longest delay a timer takes: larger values would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The default policy of a destination.
 *
 * @since 0.1.0
 */
export const DEFAULT_POLICY: ResolvedPolicy = Object.freeze({
  timeoutMs: 5000,
  maxAttempts: 3,
  backoffMs: 100,
  maxBackoffMs: 5000,
  required: true,
  batchSize: 1,
  lingerMs: 10,
  concurrency: 8,
  bufferSize: 1000,
  whenFull: "block",
});

/** The fields of a policy with the kind and range each accepts. */
type Kind = "ms+" | "ms0" | "int+" | "bool" | "full";
const FIELDS: Record<keyof DestinationPolicy, Kind> = {
  timeoutMs: "ms+",
  maxAttempts: "int+",
  backoffMs: "ms0",
  maxBackoffMs: "ms0",
  required: "bool",
  batchSize: "int+",
  lingerMs: "ms0",
  concurrency: "int+",
  bufferSize: "int+",
  whenFull: "full",
};

/**
 * One problem in a policy, by field.
 *
 * @since 0.1.0
 */
export interface PolicyProblem {
  /** The field, or an empty string for the policy as a whole. */
  readonly field: string;
  /** What is wrong. */
  readonly problem: string;
}

/**
 * Checks a policy as written in a configuration file and fills in the
 * defaults. Numbers may be given as numeric strings, as they are after
 * `${VAR}` substitution.
 *
 * @example Fill in defaults
 * ```ts
 * import { parsePolicy } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * const result = parsePolicy({ timeoutMs: "250", required: false });
 * assert.ok(result.ok);
 * assert.equal(result.policy.timeoutMs, 250);
 * assert.equal(result.policy.maxAttempts, 3);
 * ```
 *
 * @param value The policy object, or `undefined` for all defaults.
 * @returns The complete policy, or the problems found.
 * @since 0.1.0
 */
export function parsePolicy(
  value: unknown,
):
  | { ok: true; policy: ResolvedPolicy }
  | { ok: false; problems: readonly PolicyProblem[] } {
  if (value === undefined || value === null) {
    return { ok: true, policy: DEFAULT_POLICY };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, problems: [{ field: "", problem: "must be a map" }] };
  }

  const problems: PolicyProblem[] = [];
  const policy: Record<string, unknown> = { ...DEFAULT_POLICY };
  for (const [field, raw] of Object.entries(value)) {
    const kind = FIELDS[field as keyof DestinationPolicy];
    if (!kind) {
      problems.push({
        field,
        problem: `unknown field; expected one of ${
          Object.keys(FIELDS).join(", ")
        }`,
      });
      continue;
    }
    const parsed = kind === "bool"
      ? toBoolean(raw)
      : kind === "full"
      ? toWhenFull(raw)
      : toInteger(raw, kind);
    if (typeof parsed === "object") {
      problems.push({ field, problem: parsed.problem });
    } else {
      policy[field] = parsed;
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  if (!("whenFull" in value)) {
    policy.whenFull = policy.required ? "block" : "drop";
  }
  return { ok: true, policy: Object.freeze(policy) as ResolvedPolicy };
}

/**
 * Fills in a policy's defaults, for code that builds a fan-out directly.
 *
 * @example Complete a policy
 * ```ts
 * import { resolvePolicy } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolvePolicy({ maxAttempts: 1 }).timeoutMs, 5000);
 * ```
 *
 * @param policy The fields given.
 * @returns The complete policy.
 * @throws {RangeError} If a field is out of range or of the wrong kind.
 * @since 0.1.0
 */
export function resolvePolicy(
  policy: DestinationPolicy = {},
): ResolvedPolicy {
  const result = parsePolicy(policy);
  if (!result.ok) {
    const text = result.problems.map((p) => `${p.field}: ${p.problem}`)
      .join("; ");
    throw new RangeError(`Cannot use policy: ${text}`);
  }
  return result.policy;
}

interface Problem {
  problem: string;
}

function toInteger(
  raw: unknown,
  kind: "ms+" | "ms0" | "int+",
): number | Problem {
  const value = typeof raw === "string" && raw.trim() !== ""
    ? Number(raw)
    : raw;
  const min = kind === "ms0" ? 0 : 1;
  const max = kind === "int+" ? Number.MAX_SAFE_INTEGER : MAX_TIMER_MS;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    return { problem: `must be a whole number, got ${JSON.stringify(raw)}` };
  }
  if (value < min) return { problem: `must be at least ${min}, got ${value}` };
  if (value > max) return { problem: `must be at most ${max}, got ${value}` };
  return value;
}

function toBoolean(raw: unknown): boolean | Problem {
  if (typeof raw === "boolean") return raw;
  if (raw === "true") return true;
  if (raw === "false") return false;
  return { problem: `must be true or false, got ${JSON.stringify(raw)}` };
}

function toWhenFull(raw: unknown): "block" | "drop" | Problem {
  if (raw === "block" || raw === "drop") return raw;
  return { problem: `must be "block" or "drop", got ${JSON.stringify(raw)}` };
}
