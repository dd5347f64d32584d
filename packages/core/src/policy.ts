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
}

/**
 * The default policy of a destination.
 *
 * @since 0.1.0
 */
export const DEFAULT_POLICY: Readonly<Required<DestinationPolicy>> = Object
  .freeze({
    timeoutMs: 5000,
    maxAttempts: 3,
    backoffMs: 100,
    maxBackoffMs: 5000,
    required: true,
    batchSize: 1,
    lingerMs: 10,
  });

/** The fields of a policy with the kind and range each accepts. */
const FIELDS: Record<keyof DestinationPolicy, "int+" | "int0" | "bool"> = {
  timeoutMs: "int+",
  maxAttempts: "int+",
  backoffMs: "int0",
  maxBackoffMs: "int0",
  required: "bool",
  batchSize: "int+",
  lingerMs: "int0",
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
  | { ok: true; policy: Readonly<Required<DestinationPolicy>> }
  | { ok: false; problems: readonly PolicyProblem[] } {
  if (value === undefined || value === null) {
    return { ok: true, policy: DEFAULT_POLICY };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, problems: [{ field: "", problem: "must be a map" }] };
  }

  const problems: PolicyProblem[] = [];
  const policy: Record<string, number | boolean> = { ...DEFAULT_POLICY };
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
    const parsed = kind === "bool" ? toBoolean(raw) : toInteger(raw, kind);
    if (typeof parsed === "string") {
      problems.push({ field, problem: parsed });
    } else {
      policy[field] = parsed;
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    policy: Object.freeze(policy) as Readonly<Required<DestinationPolicy>>,
  };
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
): Readonly<Required<DestinationPolicy>> {
  const result = parsePolicy(policy);
  if (!result.ok) {
    const text = result.problems.map((p) => `${p.field}: ${p.problem}`)
      .join("; ");
    throw new RangeError(`Cannot use policy: ${text}`);
  }
  return result.policy;
}

function toInteger(raw: unknown, kind: "int+" | "int0"): number | string {
  const value = typeof raw === "string" && raw.trim() !== ""
    ? Number(raw)
    : raw;
  const min = kind === "int+" ? 1 : 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    return `must be a whole number, got ${JSON.stringify(raw)}`;
  }
  if (value < min) return `must be at least ${min}, got ${value}`;
  return value;
}

function toBoolean(raw: unknown): boolean | string {
  if (typeof raw === "boolean") return raw;
  if (raw === "true") return true;
  if (raw === "false") return false;
  return `must be true or false, got ${JSON.stringify(raw)}`;
}
