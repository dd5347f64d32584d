import type { SeriesKind } from "./metric.ts";
import { sanitizePrometheusName, sanitizeStatsdName } from "./sanitize.ts";

/**
 * The name of a metric's Prometheus family, as `# TYPE` lines show it: the
 * prefix and name sanitised, with `_total` added to a counter that lacks it.
 *
 * @param prefix The Prometheus prefix.
 * @param name The metric's name without prefix.
 * @param kind The metric's kind.
 * @returns The family name.
 */
export function prometheusFamilyName(
  prefix: string,
  name: string,
  kind: SeriesKind,
): string {
  const family = sanitizePrometheusName(prefix + name);
  return kind === "counter" && !family.endsWith("_total")
    ? `${family}_total`
    : family;
}

/**
 * Every name a metric takes in a scrape: its family name and, for a
 * histogram, the `_bucket`, `_sum` and `_count` sample names.
 *
 * @param prefix The Prometheus prefix.
 * @param name The metric's name without prefix.
 * @param kind The metric's kind.
 * @returns The names, family name first.
 */
export function prometheusExposedNames(
  prefix: string,
  name: string,
  kind: SeriesKind,
): string[] {
  const family = prometheusFamilyName(prefix, name, kind);
  return kind === "histogram" || kind === "timing"
    ? [family, `${family}_bucket`, `${family}_sum`, `${family}_count`]
    : [family];
}

/**
 * The name of a metric in StatsD lines.
 *
 * @param prefix The StatsD prefix.
 * @param name The metric's name without prefix.
 * @returns The sanitised name.
 */
export function statsdMetricName(prefix: string, name: string): string {
  return sanitizeStatsdName(prefix + name);
}
