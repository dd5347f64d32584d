/**
 * Makes a StatsD or DogStatsD metric name out of any text: every character
 * outside `[A-Za-z0-9_.]` becomes `_`.
 *
 * @example Clean a name
 * ```ts
 * import { sanitizeStatsdName } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeStatsdName("orders:created|v2"), "orders_created_v2");
 * ```
 *
 * @param name Any text.
 * @returns A name a StatsD server reads as one metric.
 * @since 0.1.0
 */
export function sanitizeStatsdName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/**
 * Makes a DogStatsD tag key out of any text: every character outside
 * `[A-Za-z0-9_.\-/]` becomes `_`, so a key never holds `:`, `|`, `#`, `,`
 * or a line break.
 *
 * @example Clean a tag key
 * ```ts
 * import { sanitizeStatsdTagKey } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeStatsdTagKey("repo:name"), "repo_name");
 * ```
 *
 * @param key Any text.
 * @returns A tag key.
 * @since 0.1.0
 */
export function sanitizeStatsdTagKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_.\-/]/g, "_");
}

/**
 * Makes a DogStatsD tag value out of any text: `|`, `#`, `,`, carriage
 * return and line feed become `_`; `:` stays, as DogStatsD allows it in
 * values.
 *
 * @example Clean a tag value
 * ```ts
 * import { sanitizeStatsdTagValue } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeStatsdTagValue("a|b#c,d:e"), "a_b_c_d:e");
 * ```
 *
 * @param value Any text.
 * @returns A tag value that cannot break the line format.
 * @since 0.1.0
 */
export function sanitizeStatsdTagValue(value: string): string {
  return value.replace(/[|#,\r\n]/g, "_");
}

/**
 * Makes a Prometheus metric name out of any text: it matches
 * `[a-zA-Z_:][a-zA-Z0-9_:]*`, with other characters turned into `_` and a
 * leading digit preceded by `_`.
 *
 * @example Clean a name
 * ```ts
 * import { sanitizePrometheusName } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizePrometheusName("fanout.orders-created"), "fanout_orders_created");
 * assert.equal(sanitizePrometheusName("9lives"), "_9lives");
 * ```
 *
 * @param name Any text.
 * @returns A valid metric name.
 * @since 0.1.0
 */
export function sanitizePrometheusName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * Makes a Prometheus label name out of any text: it matches
 * `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with the reserved `__`.
 *
 * @example Clean a label name
 * ```ts
 * import { sanitizePrometheusLabelName } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizePrometheusLabelName("repo.name"), "repo_name");
 * assert.equal(sanitizePrometheusLabelName("__name__"), "_name__");
 * ```
 *
 * @param name Any text.
 * @returns A valid label name.
 * @since 0.1.0
 */
export function sanitizePrometheusLabelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_");
  const started = /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
  return started.replace(/^_{2,}/, "_");
}

/**
 * Escapes a label value for the Prometheus text exposition format:
 * backslash, double quote and line feed become `\\`, `\"` and `\n`.
 *
 * @example Escape a value
 * ```ts
 * import { escapePrometheusLabelValue } from "@fanout/publishers-metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapePrometheusLabelValue('say "hi"\n'), 'say \\"hi\\"\\n');
 * ```
 *
 * @param value Any text.
 * @returns The text to write between the quotes.
 * @since 0.1.0
 */
export function escapePrometheusLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/**
 * Writes a number the way both line formats read it: plain decimals, no
 * exponent for ordinary magnitudes.
 *
 * @param value A finite number.
 * @returns Its text.
 */
export function formatNumber(value: number): string {
  const text = String(value);
  if (!text.includes("e")) return text;
  if (Math.abs(value) >= 1) return BigInt(Math.round(value)).toString();
  return value.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
}
