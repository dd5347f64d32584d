import { isRawJson, type JsonValue, type Message } from "@fanout/core";

/** What a redacted value is written as. */
export const REDACTED = "[REDACTED]";

/** Matches any key or index at one level. */
const ANY: unique symbol = Symbol("any");

type Segment = string | typeof ANY;

/** A redaction path split into its root and the keys below it. */
export interface RedactPath {
  readonly root: "body" | "headers";
  readonly segments: readonly Segment[];
}

const ROOT = /^(body|headers)(?=$|[.[])/;
const SEGMENT = /\.([^.[\]]+)|\[(\*|\d+|"(?:[^"\\]|\\.)*")\]/y;

/**
 * Splits a path such as `body.items[*].secret` into segments.
 *
 * @param text The path.
 * @returns The parsed path.
 * @throws {TypeError} If the path does not start with `body` or `headers`,
 * or has a malformed segment.
 */
export function parseRedactPath(text: string): RedactPath {
  const root = ROOT.exec(text)?.[1] as "body" | "headers" | undefined;
  if (root === undefined) {
    throw new TypeError(
      `Cannot parse redact path "${text}": it must start with "body" or "headers"`,
    );
  }

  const segments: Segment[] = [];
  SEGMENT.lastIndex = root.length;
  while (SEGMENT.lastIndex < text.length) {
    const at = SEGMENT.lastIndex;
    const match = SEGMENT.exec(text);
    if (match === null) {
      throw new TypeError(
        `Cannot parse redact path "${text}": unexpected text at offset ${at}`,
      );
    }
    const name = match[1] ?? match[2] ?? "";
    if (name === "*") segments.push(ANY);
    else if (name.startsWith('"')) segments.push(JSON.parse(name) as string);
    else segments.push(name);
  }
  return { root, segments };
}

/**
 * Returns the headers and body of a message with the values at the given
 * paths replaced by {@linkcode REDACTED}. The message is never changed:
 * objects and arrays on a matched path are copied, the rest is shared.
 *
 * @param message The message.
 * @param paths The parsed paths.
 * @returns The headers and body to write.
 */
export function redactMessage(
  message: Message,
  paths: readonly RedactPath[],
): { headers: JsonValue; body: JsonValue } {
  let headers: JsonValue = message.headers;
  let body = message.body;
  for (const path of paths) {
    if (path.root === "body") {
      body = redactAt(body, path.segments, 0, false);
    } else {
      headers = redactAt(headers, path.segments, 0, true);
    }
  }
  return { headers, body };
}

function redactAt(
  value: JsonValue,
  path: readonly Segment[],
  depth: number,
  foldCase: boolean,
): JsonValue {
  if (depth === path.length) return REDACTED;
  const segment = path[depth] as Segment;

  if (Array.isArray(value)) {
    let copy: JsonValue[] | undefined;
    value.forEach((item: JsonValue, index) => {
      if (segment !== ANY && segment !== String(index)) return;
      const next = redactAt(item, path, depth + 1, false);
      if (next !== item) {
        copy ??= [...value];
        copy[index] = next;
      }
    });
    return copy ?? value;
  }

  if (typeof value !== "object" || value === null || isRawJson(value)) {
    return value;
  }

  const wanted = typeof segment === "string" && foldCase
    ? segment.toLowerCase()
    : segment;
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const matches = wanted === ANY ||
      (foldCase ? key.toLowerCase() === wanted : key === wanted);
    if (!matches) return [key, item] as const;
    const next = redactAt(item, path, depth + 1, false);
    if (next !== item) changed = true;
    return [key, next] as const;
  });
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return changed ? Object.fromEntries(entries) : value;
}
