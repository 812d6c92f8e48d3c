import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { Counter, Gauge, Histogram, Summary, type Registry } from "prom-client";
import { AgentMetrics } from "../../agent/metrics.js";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { ControllerMetrics } from "../../webhook/metrics.js";

const rulesFile = join(REPO_ROOT, "charts/spiderpool/files/prometheus-rules.yaml");
const rulesTests = join(REPO_ROOT, "test/build/monitoring/alerts.promtool.yaml");

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const res = spawnSync("promtool", args, { input, encoding: "utf8" });
  return { status: res.status, output: `${res.stdout}${res.stderr}${res.error ?? ""}`.trim() };
}

/** Gives every family of `registry` a sample, with a value for each of its labels, so that none is exposed empty. */
async function populated(registry: Registry): Promise<string> {
  for (const metric of registry.getMetricsAsArray()) {
    const names = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    const labels = Object.fromEntries(names.map((n) => [n, `sample-${n}`]));
    if (metric instanceof Counter) metric.inc(labels, 2);
    else if (metric instanceof Gauge) metric.set(labels, 3);
    else if (metric instanceof Histogram || metric instanceof Summary) metric.observe(labels, 0.02);
  }
  return registry.metrics();
}

describe("metrics, alerts and their tests, checked by Prometheus' promtool", () => {
  it.each([
    ["spiderpool-controller", () => new ControllerMetrics(true).registry],
    ["spiderpool-agent", () => new AgentMetrics(true).registry],
  ] as const)("%s's exposition, every family populated, passes promtool check metrics", async (_name, registry) => {
    const text = await populated(registry());
    expect(text).toContain("# HELP spiderpool_");
    expect(promtool(["check", "metrics"], text)).toEqual({ status: 0, output: "" });
  });

  it("the chart's alert rules pass promtool check rules", () => {
    const res = promtool(["check", "rules", rulesFile]);
    expect(res.output).toContain("SUCCESS");
    expect(res.status).toBe(0);
  });

  it("every alert has test series that fire it and series that must not, and promtool test rules passes them", () => {
    const rules = yaml.load(readFileSync(rulesFile, "utf8")) as { groups: { rules: { alert?: string }[] }[] };
    const tests = yaml.load(readFileSync(rulesTests, "utf8")) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const alert of rules.groups.flatMap((g) => g.rules).flatMap((r) => (r.alert ? [r.alert] : []))) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect({ alert, fires: mine.some((c) => c.exp_alerts.length > 0), quiet: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({ alert, fires: true, quiet: true });
    }
    const res = promtool(["test", "rules", rulesTests]);
    expect(res.output).toContain("SUCCESS");
    expect(res.status).toBe(0);
  });
});
