import { getLogger } from "@logtape/logtape";
import assert from "node:assert/strict";
import type { MetricDef } from "./metric.ts";
import {
  OWN_SERIES_LIMIT,
  PrometheusRegistry,
  servePrometheus,
} from "./prometheus.ts";

const logger = getLogger(["test"]);

Deno.test("PrometheusRegistry renders cumulative histogram buckets and keeps a tag off le", () => {
  const registry = new PrometheusRegistry(
    { prefix: "x_", maxSeries: 10 },
    logger,
  );
  const def: MetricDef = {
    name: "size",
    kind: "histogram",
    help: "Sizes.",
    buckets: [1, 10],
  };

  for (const value of [0.5, 1, 5, 50]) {
    registry.record(def, value, { le: "tag" });
  }

  assert.equal(
    registry.render().split("\n").slice(0, 7).join("\n"),
    [
      "# HELP x_size Sizes.",
      "# TYPE x_size histogram",
      'x_size_bucket{le_="tag",le="1"} 2',
      'x_size_bucket{le_="tag",le="10"} 3',
      'x_size_bucket{le_="tag",le="+Inf"} 4',
      'x_size_sum{le_="tag"} 56.5',
      'x_size_count{le_="tag"} 4',
    ].join("\n"),
  );
});

Deno.test("PrometheusRegistry stops adding series at maxSeries and counts the rest", () => {
  const registry = new PrometheusRegistry({ prefix: "", maxSeries: 2 }, logger);
  const def: MetricDef = {
    name: "hits",
    kind: "counter",
    help: "",
    buckets: [],
  };

  for (const user of ["a", "b", "c", "d", "a"]) {
    registry.record(def, 1, { user });
  }

  const text = registry.render();
  assert.match(text, /^hits_total\{user="a"\} 2$/m);
  assert.match(text, /^hits_total\{user="b"\} 1$/m);
  assert.doesNotMatch(text, /user="c"/);
  assert.match(text, /^series_dropped_total 2$/m);
});

Deno.test("servePrometheus() answers only GET and HEAD on its path", async () => {
  const registry = new PrometheusRegistry({ prefix: "", maxSeries: 2 }, logger);
  const server = servePrometheus(
    { host: "127.0.0.1", port: 0, path: "/m" },
    registry,
  );
  try {
    const url = `http://127.0.0.1:${server.port}/m`;
    const post = await fetch(url, { method: "POST" });
    await post.body?.cancel();
    const get = await fetch(url);

    assert.equal(post.status, 405);
    assert.equal(get.status, 200);
    assert.match(await get.text(), /series_dropped_total 0/);
  } finally {
    await server.close();
  }
});

Deno.test("PrometheusRegistry keeps its own series in a budget apart from maxSeries", () => {
  const registry = new PrometheusRegistry({ prefix: "", maxSeries: 1 }, logger);
  const rule: MetricDef = {
    name: "hits",
    kind: "counter",
    help: "",
    buckets: [],
  };
  const own: MetricDef = { ...rule, name: "received", own: true };

  for (const user of ["a", "b", "c"]) registry.record(rule, 1, { user });
  for (let i = 0; i < OWN_SERIES_LIMIT + 2; i++) {
    registry.record(own, 1, { destination: `d${i}` });
  }

  const text = registry.render();
  assert.match(text, /^hits_total\{user="a"\} 1$/m);
  assert.doesNotMatch(text, /user="b"/);
  assert.match(text, /^received_total\{destination="d0"\} 1$/m);
  assert.match(
    text,
    new RegExp(
      `^received_total\\{destination="d${OWN_SERIES_LIMIT - 1}"\\} 1$`,
      "m",
    ),
  );
  assert.doesNotMatch(text, new RegExp(`destination="d${OWN_SERIES_LIMIT}"`));
  assert.match(text, /^series_dropped_total 4$/m);
});
