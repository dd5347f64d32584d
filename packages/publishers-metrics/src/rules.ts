import { isRawJson, type Message } from "@fanout/core";
import type { ResolvedRule } from "./options.ts";

/** Tag (label) names to values, before sanitising for an output. */
export type Tags = Readonly<Record<string, string>>;

/** What one rule made of one message. */
export type RuleOutcome =
  | { readonly ok: true; readonly value: number; readonly tags: Tags }
  | { readonly ok: false; readonly reason: string };

/** Reads one field of a message, or `undefined` when it is not there. */
type FieldReader = (message: Message) => unknown;

/** A rule turned into functions, ready to run on every message. */
export interface CompiledRule {
  readonly rule: ResolvedRule;
  /**
   * Runs the rule on a message.
   *
   * @returns `undefined` when the rule does not match the message.
   */
  apply(message: Message): RuleOutcome | undefined;
}

/**
 * Makes a reader for a path such as `type`, `body.a.0.b` or `headers.x`.
 * Only own properties are followed, so `body.constructor` reads nothing.
 */
export function fieldReader(path: string): FieldReader {
  if (path === "type") return (message) => message.type;
  if (path.startsWith("headers.")) {
    const header = path.slice("headers.".length);
    return (message) =>
      Object.hasOwn(message.headers, header)
        ? message.headers[header]
        : undefined;
  }
  const keys = path.split(".").slice(1);
  return (message) => {
    let current: unknown = message.body;
    for (const key of keys) {
      if (
        typeof current !== "object" || current === null || isRawJson(current)
      ) {
        return undefined;
      }
      if (Array.isArray(current) && !/^(0|[1-9]\d*)$/.test(key)) {
        return undefined;
      }
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };
}

/**
 * Turns a field into a tag value: strings as they are, numbers, booleans
 * and large raw integers as text; anything else gives no tag.
 */
export function tagText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (isRawJson(value)) return JSON.stringify(value);
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * Prepares a validated rule for use.
 *
 * @param rule The rule, defaults filled in.
 * @returns The compiled rule.
 */
export function compileRule(rule: ResolvedRule): CompiledRule {
  const matchType = rule.match.type;
  const valuePath = rule.value;
  const readValue = valuePath === undefined
    ? undefined
    : fieldReader(valuePath);
  const readTags = Object.entries(rule.tags).map(
    ([name, path]) => [name, fieldReader(path)] as const,
  );

  function value(message: Message): number | string {
    if (!readValue) return 1;
    const raw = readValue(message);
    const number = isRawJson(raw)
      ? Number(JSON.stringify(raw))
      : typeof raw === "number"
      ? raw
      : undefined;
    if (number === undefined) {
      return `"${valuePath}" is ${describe(raw)}, not a number`;
    }
    if (!Number.isFinite(number)) return `"${valuePath}" is not finite`;
    if (rule.kind === "counter" && number < 0) {
      return `"${valuePath}" is negative, which a counter cannot add`;
    }
    return number;
  }

  return {
    rule,
    apply(message) {
      if (matchType !== undefined && message.type !== matchType) {
        return undefined;
      }
      const result = value(message);
      if (typeof result === "string") return { ok: false, reason: result };
      const tags: Record<string, string> = {};
      for (const [name, read] of readTags) {
        const text = tagText(read(message));
        if (text !== undefined) tags[name] = text;
      }
      return { ok: true, value: result, tags };
    },
  };
}
