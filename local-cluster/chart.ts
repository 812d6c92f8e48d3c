import type { KubernetesObject, V1Container, V1DaemonSet, V1Deployment } from "@kubernetes/client-node";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { binaryVersions, findBinary, REPO_ROOT } from "./binaries.js";

/** The Helm chart, rendered with the real helm binary (local-cluster/binaries.ts finds it). */
export const CHART_DIR = join(REPO_ROOT, "charts/spiderpool");

export interface ChartRender {
  release: string;
  namespace: string;
  /** Values over values.yaml (written to a file and passed with -f, after `valuesFiles`). */
  values?: object;
  valuesFiles?: string[];
  /** Also the CRDs of crds/ (helm install applies them first; `helm template` leaves them out). */
  includeCrds?: boolean;
}

/** Runs helm with `args`; throws with its output when it fails. */
export function helm(args: string[]): string {
  const res = spawnSync(findBinary("helm"), args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`helm ${args.join(" ")} failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}${res.error ?? ""}`);
  return `${res.stdout}${res.stderr}`;
}

/**
 * `helm template` of the chart: the manifests an install would apply, for the Kubernetes
 * version the local control plane runs (helm's offline default is older than the chart allows).
 */
export function helmTemplate(o: ChartRender): string {
  const dir = mkdtempSync(join(tmpdir(), "spiderpool-chart-"));
  try {
    const files = [...(o.valuesFiles ?? [])];
    if (o.values) {
      files.push(join(dir, "values.json"));
      writeFileSync(join(dir, "values.json"), JSON.stringify(o.values));
    }
    const args = ["template", o.release, CHART_DIR, "--namespace", o.namespace, "--kube-version", binaryVersions().K8S_VERSION ?? "", ...files.flatMap((f) => ["-f", f]), ...(o.includeCrds ? ["--include-crds"] : [])];
    const res = spawnSync(findBinary("helm"), args, { encoding: "utf8", maxBuffer: 64 << 20 });
    if (res.status !== 0) throw new Error(`helm ${args.join(" ")} failed: ${res.stderr}${res.error ?? ""}`);
    return res.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rendered chart as objects. */
export function renderChart(o: ChartRender): KubernetesObject[] {
  return (yaml.loadAll(helmTemplate(o)) as (KubernetesObject | null)[]).filter((d): d is KubernetesObject => d !== null && typeof d === "object");
}

/** The objects of one kind. */
export function ofKind<T extends KubernetesObject = KubernetesObject>(objects: readonly KubernetesObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

/** The one container `name` of the chart's Deployment or DaemonSet of `component`. */
export function chartContainer(objects: readonly KubernetesObject[], component: "controller" | "agent", name?: string): V1Container {
  const kind = component === "controller" ? "Deployment" : "DaemonSet";
  const workload = ofKind<V1Deployment | V1DaemonSet>(objects, kind).find((o) => o.metadata?.labels?.["app.kubernetes.io/component"] === component);
  const spec = workload?.spec?.template.spec;
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const found = name ? containers.find((c) => c.name === name) : spec?.containers[0];
  if (!found) throw new Error(`the chart renders no ${kind} container ${name ?? ""} for the ${component}`);
  return found;
}

/** The literal environment of a container (variables taken from the Downward API are left out). */
export function literalEnv(container: V1Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? ""]));
}
