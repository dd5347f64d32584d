import type { Tags } from "./rules.ts";

/**
 * How a series behaves: a counter adds, a gauge sets, a histogram observes,
 * and a timing is a histogram of milliseconds (`|ms` in StatsD).
 */
export type SeriesKind = "counter" | "gauge" | "histogram" | "timing";

/** One metric as both outputs see it, before prefixes and sanitising. */
export interface MetricDef {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly help: string;
  /** Prometheus histogram bucket bounds, sorted; empty for other kinds. */
  readonly buckets: readonly number[];
  /**
   * Whether the series count against the package's own budget rather than
   * the rules' `maxSeries`, so that message contents cannot crowd them out.
   */
  readonly own?: boolean;
}

/** An output that takes samples. */
export interface MetricSink {
  /**
   * Records one sample. Never throws and never waits.
   *
   * @param def The metric.
   * @param value A finite number.
   * @param tags Tag names to values.
   */
  record(def: MetricDef, value: number, tags: Tags): void;
}
