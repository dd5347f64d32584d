import type { PluginLogger as Logger } from "@fanout/core";
import type { MetricDef, MetricSink } from "./metric.ts";
import type { ResolvedPrometheusOptions } from "./options.ts";
import type { Tags } from "./rules.ts";
import { BUILT_IN } from "./built_in.ts";
import { prometheusFamilyName } from "./names.ts";
import {
  escapePrometheusLabelValue,
  formatNumber,
  sanitizePrometheusLabelName,
} from "./sanitize.ts";

/**
 * The most series the package's own metrics (fan-out events per
 * destination, queue, mapping and send errors) keep, apart from the rules'
 * `maxSeries`, so that message contents never crowd them out.
 */
export const OWN_SERIES_LIMIT = 1000;

/** How many series one budget holds and may hold. */
interface Budget {
  readonly name: string;
  readonly limit: number;
  used: number;
  warned: boolean;
}

interface Series {
  /** Rendered `{a="b"}` part, or the empty string. */
  readonly labels: string;
  readonly labelPairs: readonly (readonly [string, string])[];
  value: number;
  /** Per bucket, observations at or below its bound (not cumulative). */
  readonly bucketCounts: number[];
  count: number;
}

interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly buckets: readonly number[];
  readonly series: Map<string, Series>;
}

/** Keeps series in memory and writes them in the text exposition format. */
export class PrometheusRegistry implements MetricSink {
  #prefix: string;
  #logger: Logger;
  #families = new Map<MetricDef, Family>();
  #ruleSeries: Budget;
  #ownSeries: Budget = {
    name: "own series",
    limit: OWN_SERIES_LIMIT,
    used: 0,
    warned: false,
  };
  #seriesDropped = 0;
  #collectors: (() => void)[] = [];

  /**
   * Makes an empty registry.
   *
   * @param options The prefix and the series limit of rules and of the
   * delivery latency; the package's own series have a separate limit,
   * {@linkcode OWN_SERIES_LIMIT}.
   * @param logger Told the first time each series limit is reached.
   */
  constructor(
    options: Pick<ResolvedPrometheusOptions, "prefix" | "maxSeries">,
    logger: Logger,
  ) {
    this.#prefix = options.prefix;
    this.#ruleSeries = {
      name: "maxSeries",
      limit: options.maxSeries,
      used: 0,
      warned: false,
    };
    this.#logger = logger;
  }

  record(def: MetricDef, value: number, tags: Tags): void {
    const family = this.#family(def);
    const labelPairs = Object.entries(tags)
      .map(([key, text]) => [labelName(family, key), text] as const)
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    const key = JSON.stringify(labelPairs);
    let series = family.series.get(key);
    if (!series) {
      const budget = def.own ? this.#ownSeries : this.#ruleSeries;
      if (budget.used >= budget.limit) {
        if (!budget.warned) {
          budget.warned = true;
          this.#logger.warn(
            "Cannot add series to {metric}: the limit of {limit} series ({budget}) is reached",
            { metric: family.name, limit: budget.limit, budget: budget.name },
          );
        }
        this.#seriesDropped++;
        return;
      }
      series = {
        labels: renderLabels(labelPairs),
        labelPairs,
        value: 0,
        bucketCounts: family.buckets.map(() => 0),
        count: 0,
      };
      family.series.set(key, series);
      budget.used++;
    }

    if (family.type === "counter") {
      series.value += value;
    } else if (family.type === "gauge") {
      series.value = value;
    } else {
      series.value += value;
      series.count++;
      const index = family.buckets.findIndex((bound) => value <= bound);
      if (index >= 0) series.bucketCounts[index]!++;
    }
  }

  /**
   * Writes every family in the text exposition format, version 0.0.4.
   *
   * @returns The scrape body.
   */
  render(): string {
    for (const collect of this.#collectors) collect();
    const out: string[] = [];
    for (const family of this.#families.values()) {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
      out.push(`# TYPE ${family.name} ${family.type}`);
      for (const series of family.series.values()) {
        if (family.type !== "histogram") {
          out.push(
            `${family.name}${series.labels} ${formatNumber(series.value)}`,
          );
          continue;
        }
        let cumulative = 0;
        family.buckets.forEach((bound, index) => {
          cumulative += series.bucketCounts[index]!;
          const labels = renderLabels([
            ...series.labelPairs,
            ["le", formatNumber(bound)],
          ]);
          out.push(`${family.name}_bucket${labels} ${cumulative}`);
        });
        const inf = renderLabels([...series.labelPairs, ["le", "+Inf"]]);
        out.push(`${family.name}_bucket${inf} ${series.count}`);
        out.push(
          `${family.name}_sum${series.labels} ${formatNumber(series.value)}`,
        );
        out.push(`${family.name}_count${series.labels} ${series.count}`);
      }
    }
    const { seriesDropped } = BUILT_IN;
    const dropped = prometheusFamilyName(
      this.#prefix,
      seriesDropped.name,
      seriesDropped.kind,
    );
    out.push(
      `# HELP ${dropped} ${escapeHelp(seriesDropped.help)}`,
      `# TYPE ${dropped} counter`,
      `${dropped} ${this.#seriesDropped}`,
    );
    return out.join("\n") + "\n";
  }

  /**
   * Adds a function run before each render, to bring series up to date.
   *
   * @param collect Records what it needs.
   */
  beforeRender(collect: () => void): void {
    this.#collectors.push(collect);
  }

  #family(def: MetricDef): Family {
    let family = this.#families.get(def);
    if (family) return family;
    const name = prometheusFamilyName(this.#prefix, def.name, def.kind);
    const histogram = def.kind === "histogram" || def.kind === "timing";
    family = {
      name,
      type: histogram
        ? "histogram"
        : def.kind === "gauge"
        ? "gauge"
        : "counter",
      help: def.help,
      buckets: histogram ? def.buckets : [],
      series: new Map(),
    };
    this.#families.set(def, family);
    return family;
  }
}

/** A histogram's own `le` label cannot be shared with a tag. */
function labelName(family: Family, key: string): string {
  const name = sanitizePrometheusLabelName(key);
  return name === "le" && family.type === "histogram" ? "le_" : name;
}

function renderLabels(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "";
  const body = pairs
    .map(([key, value]) => `${key}="${escapePrometheusLabelValue(value)}"`)
    .join(",");
  return `{${body}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** An HTTP server answering scrapes, and the port it is bound to. */
export interface PrometheusServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves a registry's exposition on the configured host, port and path.
 *
 * @param options Where to listen.
 * @param registry What to serve.
 * @returns The running server.
 * @throws {Error} If the address cannot be bound, such as a port in use.
 */
export function servePrometheus(
  options: Pick<ResolvedPrometheusOptions, "host" | "port" | "path">,
  registry: PrometheusRegistry,
): PrometheusServer {
  const { host, port, path } = options;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port,
      onListen: () => {},
    }, (request) => {
      if (new URL(request.url).pathname !== path) {
        return new Response("Not Found\n", { status: 404 });
      }
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method Not Allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      return new Response(registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    });
  } catch (error) {
    const state = error instanceof Deno.errors.AddrInUse
      ? "the port is in use"
      : "the address cannot be bound";
    throw new Error(
      `Cannot listen for Prometheus scrapes on "${host}:${port}": ${state}`,
      { cause: error },
    );
  }
  let closing: Promise<void> | undefined;
  return {
    port: server.addr.port,
    close: () => closing ??= server.shutdown(),
  };
}
