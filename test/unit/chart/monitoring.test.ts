import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import type { Registry } from "prom-client";
import { AgentMetrics } from "../../../agent/metrics.js";
import { REPO_ROOT } from "../../../local-cluster/binaries.js";
import { withMetricsTable } from "../../../local-cluster/metrics-doc.js";
import { ControllerMetrics } from "../../../webhook/metrics.js";

const files = join(REPO_ROOT, "charts/spiderpool/files");

const KEYWORDS = new Set(["and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);

/**
 * The metric names a PromQL expression reads: identifiers that are not functions,
 * aggregations, keywords, label names (in matchers and groupings), durations or Grafana's
 * $__ variables.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\$__\w+/g, "");
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** Every series name a registry exposes (a histogram's _bucket, _sum and _count included). */
async function exported(registry: Registry): Promise<string[]> {
  const suffixes: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], summary: ["", "_sum", "_count"] };
  return (await registry.getMetricsAsJSON()).flatMap((m) => (suffixes[String(m.type)] ?? [""]).map((s) => `${m.name}${s}`));
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(files, "grafana-dashboard.json"), "utf8")) as { panels: Panel[] };
  const all = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? "" })));
}

function alertQueries(): { where: string; expr: string }[] {
  const rules = yaml.load(readFileSync(join(files, "prometheus-rules.yaml"), "utf8")) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })));
}

describe("the dashboard and the alerts", () => {
  it.each([
    ["the dashboard", dashboardQueries],
    ["the alerts", alertQueries],
  ] as const)("%s read only metrics that spiderpool-controller or spiderpool-agent export", async (_what, queries) => {
    const names = new Set([...(await exported(new ControllerMetrics(true).registry)), ...(await exported(new AgentMetrics(true).registry))]);
    const list = queries();
    expect(list.length).toBeGreaterThan(4);
    for (const q of list) {
      const used = metricNames(q.expr);
      expect({ where: q.where, readsAMetric: used.length > 0 }).toEqual({ where: q.where, readsAMetric: true });
      expect({ where: q.where, unknown: used.filter((n) => !names.has(n)) }).toEqual({ where: q.where, unknown: [] });
    }
  });

  it("covers what the issue asks: usage per pool, allocation rate and latency, failures and GC releases by reason", () => {
    const exprs = dashboardQueries().map((q) => q.expr);
    for (const wanted of [/by \(pool\).*spiderpool_ippool_available_ip_counts/, /rate\(spiderpool_ipam_allocation_counts_total/, /spiderpool_ipam_allocation_duration_seconds_bucket/, /by \(reason\).*spiderpool_ipam_allocation_failure_counts_total/, /by \(reason\).*spiderpool_ip_gc_counts_total/]) {
      expect({ wanted: String(wanted), found: exprs.some((e) => wanted.test(e)) }).toEqual({ wanted: String(wanted), found: true });
    }
  });
});

describe("docs/monitoring.md", () => {
  it("lists every metric the programs export, with its type, labels and help (npm run gen:docs)", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/monitoring.md"), "utf8");
    expect(doc).toBe(withMetricsTable(doc));
  });
});

describe("metricNames", () => {
  it("finds the metrics and skips functions, keywords, labels, ranges and durations", () => {
    expect(metricNames('sum by (reason) (rate(a_total{reason="x y",b=~"c"}[5m])) / on (pool) group_left b_count > 3 * c offset 5m and 1e9')).toEqual(["a_total", "b_count", "c"]);
    expect(metricNames("histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))")).toEqual(["x_bucket"]);
  });
});
