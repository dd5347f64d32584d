import assert from "node:assert/strict";
import {
  escapePrometheusLabelValue,
  formatNumber,
  sanitizePrometheusLabelName,
  sanitizePrometheusName,
  sanitizeStatsdName,
  sanitizeStatsdTagKey,
  sanitizeStatsdTagValue,
} from "./sanitize.ts";

Deno.test("sanitizeStatsdName() keeps letters, digits, underscores and dots only", () => {
  assert.equal(
    sanitizeStatsdName("fanout.orders:created|v2 é"),
    "fanout.orders_created_v2__",
  );
  assert.equal(sanitizeStatsdName("a.b_C9"), "a.b_C9");
});

Deno.test("sanitizeStatsdTagKey() removes every character that could end a key", () => {
  assert.equal(sanitizeStatsdTagKey("repo:name|#,\n"), "repo_name____");
  assert.equal(sanitizeStatsdTagKey("k8s.pod-name/x"), "k8s.pod-name/x");
});

Deno.test("sanitizeStatsdTagValue() replaces separators and keeps colons", () => {
  assert.equal(sanitizeStatsdTagValue("a|b#c,d:e\nf\rg"), "a_b_c_d:e_f_g");
  assert.equal(
    sanitizeStatsdTagValue("https://x.test:8080"),
    "https://x.test:8080",
  );
});

Deno.test("sanitizePrometheusName() matches the metric name grammar", () => {
  for (const input of ["fanout.messages", "9lives", "a-b c", "ns:sub", ""]) {
    assert.match(sanitizePrometheusName(input), /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
  }
  assert.equal(sanitizePrometheusName("ns:sub.total"), "ns:sub_total");
});

Deno.test("sanitizePrometheusLabelName() matches the label grammar and avoids the reserved prefix", () => {
  for (const input of ["repo.name", "__name__", "___x", "1st", "a:b", ""]) {
    const name = sanitizePrometheusLabelName(input);
    assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
    assert.ok(!name.startsWith("__"), name);
  }
  assert.equal(sanitizePrometheusLabelName("a:b"), "a_b");
});

Deno.test("escapePrometheusLabelValue() escapes backslash, quote and newline only", () => {
  assert.equal(escapePrometheusLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
});

Deno.test("formatNumber() writes no exponent", () => {
  assert.equal(formatNumber(1e21), "1000000000000000000000");
  assert.equal(formatNumber(1.5e-7), "0.00000015");
  assert.equal(formatNumber(-2.5), "-2.5");
});
