import { describe, expect, it } from "@jest/globals";
import type { KubernetesObject, V1ClusterRole, V1ConfigMap, V1Container, V1PolicyRule, V1Role } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import yaml from "js-yaml";
import { AGENT_SETTINGS, parseAgentConfig } from "../../agent/config.js";
import { CLUSTER_CONFIG_KEYS, parseClusterConfig } from "../../ipam/kinds/cluster-config.js";
import { CHART_DIR, chartContainer, helm, ofKind, renderChart } from "../../local-cluster/chart.js";
import { parseControllerConfig, SETTINGS } from "../../webhook/config.js";
import { CONTROLLER_NODE_FLAGS } from "../../webhook/node-flags.js";
import { registeredWebhookConfigurations } from "../../webhook/registration.js";
import { chartVariants } from "../harness/chart-variants.js";

const variants = chartVariants("spiderpool", "kube-system");

/** A container's environment as the programs would see it (Downward API values stood in for). */
function envOf(container: V1Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? "from-the-downward-api"]));
}

/** The options given to helm lint for a variant (its values as files). */
function lintArgs(render: (typeof variants)[number][1]): string[] {
  const sets = Object.entries((render.values as { tls?: { method: string; provided: Record<string, string> } } | undefined)?.tls?.provided ?? {}).flatMap(([k, v]) => ["--set-string", `tls.provided.${k}=${v}`]);
  const method = render.values ? ["--set", "tls.method=provided"] : [];
  return [...(render.valuesFiles ?? []).flatMap((f) => ["-f", f]), ...method, ...sets];
}

/** A rule as docs/install.md's RBAC tables write it: `group: resource, resource` (core for ""), verbs, named or not. */
const ruleKey = (groups: readonly string[], resources: readonly string[], verbs: readonly string[], named: boolean): string =>
  `${groups.map((g) => g || "core").join(",")}: ${[...resources].sort().join(", ")}${named ? " (by name)" : ""} | ${[...verbs].sort().join(", ")}`;

/** The rows of the table under `<!-- rbac: NAME -->` in docs/install.md, as ruleKeys. */
function documentedRules(name: string): string[] {
  const text = readFileSync(join(REPO_ROOT, "docs/install.md"), "utf8");
  const at = text.indexOf(`<!-- rbac: ${name} -->`);
  if (at < 0) return [];
  const rows = text.slice(at).split("\n").slice(3);
  const out: string[] = [];
  for (const row of rows) {
    const m = /^\| `([^:`]+): ([^`(]+?)( \(by name\))?` \| ([^|]+) \|/.exec(row);
    if (!m) break;
    out.push(ruleKey([m[1] === "core" ? "" : (m[1] ?? "")], (m[2] ?? "").split(", "), (m[4] ?? "").trim().split(", "), m[3] !== undefined));
  }
  return out;
}

const rulesOf = (objects: KubernetesObject[], kind: "ClusterRole" | "Role", component: string): V1PolicyRule[] =>
  ofKind<V1ClusterRole | V1Role>(objects, kind).find((r) => r.metadata?.labels?.["app.kubernetes.io/component"] === component)?.rules ?? [];

describe.each(variants)("the Helm chart with %s", (_name, render) => {
  const objects = renderChart(render);
  const controllerEnv = envOf(chartContainer(objects, "controller"));
  const config = parseControllerConfig(controllerEnv, []);

  it("passes helm lint --strict with nothing to say", () => {
    const out = helm(["lint", "--strict", CHART_DIR, ...lintArgs(render)]);
    expect(out).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(out).not.toMatch(/\[(INFO|WARNING|ERROR)\]/);
  });

  it("runs the controller with the Node flags it was measured with, as the image does", () => {
    const main = "/opt/spiderpool/webhook/spiderpool-controller.mjs";
    expect(chartContainer(objects, "controller").command).toEqual(["node", ...CONTROLLER_NODE_FLAGS, main]);
    const cmd = /^CMD (.+)$/m.exec(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"))?.[1] ?? "[]";
    expect(JSON.parse(cmd)).toEqual(["node", ...CONTROLLER_NODE_FLAGS, main]);
  });

  it("sets only settings the programs know, and values they accept", () => {
    const known = new Set([...Object.values(SETTINGS), ...Object.values(AGENT_SETTINGS)].map((s) => s.env));
    const agentEnv = envOf(chartContainer(objects, "agent"));
    expect([...Object.keys(controllerEnv), ...Object.keys(agentEnv)].filter((name) => !known.has(name))).toEqual([]);
    expect(() => parseAgentConfig(agentEnv, [])).not.toThrow();
    expect(config.registration.enabled).toBe(false);
  });

  it("renders the webhook configurations registration.ts describes for the chart's settings", () => {
    const caBundle = (render.values as { tls?: { provided: { caCert: string } } } | undefined)?.tls?.provided.caCert;
    const [mutating, validating] = registeredWebhookConfigurations(config, caBundle);
    for (const want of [mutating, validating]) {
      const got = ofKind<typeof want>(objects, want.kind ?? "").find((o) => o.metadata?.name === want.metadata?.name);
      expect(got?.metadata?.labels?.["app.kubernetes.io/part-of"]).toBe("spiderpool");
      expect(got?.webhooks).toEqual(want.webhooks);
    }
  });

  it("writes a cluster configuration the controller accepts whole", () => {
    const cm = ofKind<V1ConfigMap>(objects, "ConfigMap").find((c) => c.metadata?.name === config.ipam.configMap);
    const parsed = parseClusterConfig(yaml.load(cm?.data?.["conf.yml"] ?? ""));
    expect({ errors: parsed.errors, ignored: parsed.ignored }).toEqual({ errors: [], ignored: [] });
  });

  it("sets in values.yaml every conf.yml key the programs read, and no other", () => {
    const values = yaml.load(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as { clusterConfig: Record<string, unknown> };
    expect(Object.keys(values.clusterConfig).sort()).toEqual([...CLUSTER_CONFIG_KEYS].sort());
  });

  it("grants the controller its own Secret, webhook configurations and ConfigMap by name, and runs the programs as the identities it binds", () => {
    const named = (kind: "ClusterRole" | "Role", resource: string): string[] => rulesOf(objects, kind, "controller").filter((r) => r.resources?.includes(resource)).flatMap((r) => r.resourceNames ?? []);
    expect(named("Role", "secrets")).toEqual([config.tls.secretName]);
    expect(named("Role", "configmaps")).toEqual([config.ipam.configMap]);
    expect(named("ClusterRole", "mutatingwebhookconfigurations")).toEqual([...config.webhookConfigurations.mutating]);
    expect(named("ClusterRole", "validatingwebhookconfigurations")).toEqual([...config.webhookConfigurations.validating]);
    const accounts = ofKind(objects, "ServiceAccount").map((sa) => `system:serviceaccount:${render.namespace}:${sa.metadata?.name}`);
    expect(accounts.sort()).toEqual([...config.ipam.systemUsers, ...config.ipam.agentUsers].sort());
  });

  it("grants exactly the rules docs/install.md lists, each with its reason", () => {
    const extra = (render.valuesFiles ?? []).length > 0 ? 1 : 0; // ci/all-on-values.yaml adds one controller.extraRules rule
    for (const [kind, component] of [["ClusterRole", "controller"], ["Role", "controller"], ["ClusterRole", "agent"]] as const) {
      const rules = rulesOf(objects, kind, component);
      const rendered = rules.slice(0, kind === "ClusterRole" && component === "controller" ? rules.length - extra : rules.length);
      const keys = rendered.map((r) => ruleKey(r.apiGroups ?? [], r.resources ?? [], r.verbs ?? [], (r.resourceNames ?? []).length > 0));
      expect({ kind, component, rules: keys.sort() }).toEqual({ kind, component, rules: documentedRules(`${component} ${kind}`).sort() });
    }
  });

  it("gives the agent no Secrets, no pool spec writes and no Node or Pod writes", () => {
    const rules = [...rulesOf(objects, "ClusterRole", "agent"), ...rulesOf(objects, "Role", "agent")];
    const may = (resource: string, verb: string): boolean => rules.some((r) => (r.resources ?? []).includes(resource) && (r.verbs ?? []).includes(verb));
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.flatMap((r) => r.resources ?? [])).not.toContain("secrets");
    for (const verb of ["update", "patch", "create", "delete"]) {
      expect({ verb, pools: may("spiderippools", verb), nodes: may("nodes", verb), pods: may("pods", verb) }).toEqual({ verb, pools: false, nodes: false, pods: false });
    }
    expect(rules.some((r) => (r.verbs ?? []).includes("*") || (r.resources ?? []).includes("*"))).toBe(false);
  });

  it("points the CNI config the init container writes at the agent's socket", () => {
    const init = chartContainer(objects, "agent", "install-cni");
    const args = init.command ?? [];
    const socket = envOf(chartContainer(objects, "agent")).SPIDERPOOL_AGENT_SOCKET;
    if (args.includes("--master")) expect(args[args.indexOf("--socket") + 1]).toBe(socket);
    expect(args.slice(0, 3)).toEqual(["/opt/spiderpool/install-cni.sh", "--from", "/opt/spiderpool/cni"]);
  });

  it("carries the alert rules and the dashboard files unchanged when monitoring is on", () => {
    const rule = ofKind<KubernetesObject & { spec?: unknown }>(objects, "PrometheusRule")[0];
    const dashboard = ofKind<V1ConfigMap>(objects, "ConfigMap").find((c) => c.metadata?.name?.endsWith("-dashboard"));
    if (!rule && !dashboard) {
      expect(ofKind(objects, "ServiceMonitor")).toEqual([]);
      return;
    }
    expect(rule?.spec).toEqual(yaml.load(readFileSync(join(CHART_DIR, "files/prometheus-rules.yaml"), "utf8")));
    expect(JSON.parse(dashboard?.data?.["spiderpool.json"] ?? "")).toEqual(JSON.parse(readFileSync(join(CHART_DIR, "files/grafana-dashboard.json"), "utf8")));
    expect(ofKind(objects, "ServiceMonitor")).toHaveLength(2);
  });
});
