import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { parseCIDR } from "../ipam/address/cidr.js";
import { formatIP } from "../ipam/address/ip.js";
import { IPPOOL_PLURAL } from "../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../ipam/kinds/meta.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import type { Log } from "../ipam/ports.js";
import { CustomResources } from "../k8s/resources.js";
import { consistencyOf } from "./consistency.js";
import { spawnController, type ControllerProcess } from "./controller-process.js";
import { createNamespace, waitFor } from "./kube.js";
import { fetchLocal, histogramQuantile, parseMetrics, sumOf } from "./metrics-text.js";
import { spawnFloorWebhook } from "./floor-webhook.js";
import { costsBetween, readCosts, type WaveCosts } from "./scenario-costs.js";
import { createPool } from "./pods.js";
import { createWave, deleteWave, waitNoPods, waitWaveRunning, type Wave, type WaveOutcome } from "./scenario-workload.js";

/**
 * The scenarios of issue 16 (Spiderpool's published figure: the time until 1,000 Pods of 100
 * Deployments × 10 run), on a local control plane with kwok nodes: each with a controller
 * process of its own, so that its metrics and peak memory are the scenario's alone.
 */
export type ScenarioKind = "baseline" | "floor" | "floor-record" | "pool-v4" | "pool-dual" | "auto" | "plenty" | "churn";

export const SCENARIO_TITLES: Record<ScenarioKind, string> = {
  baseline: "5. baseline: no webhook",
  floor: "0. floor: a webhook that answers at once with a fixed annotation and writes nothing",
  "floor-record": "0. the design's floor: that webhook, and each placed Pod's SpiderEndpoint in one create",
  "pool-v4": "1. one shared pool of exactly N addresses, IPv4",
  "pool-dual": "1. one shared pool of exactly N addresses each, dual-stack",
  auto: "2. automatic pools (+0) from a subnet of exactly N addresses",
  plenty: "3. one pool of 65,534 addresses",
  churn: "4. all deleted and re-created at a full pool (IPv4)",
};

export interface ScenarioResult {
  kind: ScenarioKind;
  pods: number;
  /** From the first Deployment created until the last Pod Running with its address; undefined when it timed out. */
  wallMs?: number;
  running: number;
  failed: number;
  /** Pod admissions the webhook answered (mutate-pod), all results. */
  admissions: number;
  admissionP50Ms: number;
  admissionP99Ms: number;
  /** spiderpool_ipam_allocation_update_ippool_conflict_counts_total */
  conflicts: number;
  /** Pod admissions refused (denied or error). */
  refused: number;
  /** Deployment creates the apiserver refused with a 5xx (the application webhook past its timeout), then retried. */
  createsRefused: number;
  controllerPeakRss: number;
  /** The consistency checker over the scenario's pools at the end: leaked/missing/duplicates, or "—" without the webhook. */
  verdict: string;
  /** Why the scenario could not complete, if it could not. */
  error?: string;
  /** Controller settings the scenario ran with, over the chart's defaults. */
  settings?: Record<string, string>;
  /** CPU by process and apiserver requests during its (last) wave. */
  costs?: WaveCosts;
}

export interface ScenarioRun {
  kc: KubeConfig;
  /** The cluster's kubeconfig file (for the controller process). */
  kubeconfig: string;
  /** The run's id: its kwok nodes carry it. */
  nodes: string;
  deployments: number;
  replicas: number;
  timeoutMs: number;
  log: Log;
}

/** "first-last" of the `count` addresses after the network address of `cidr`. */
export function firstAddresses(cidr: string, count: number): string {
  const c = parseCIDR(cidr);
  return `${formatIP(c.family, c.network + 1n)}-${formatIP(c.family, c.network + BigInt(count))}`;
}

/** The pools or subnet a scenario draws from, created under the controller's labels; returns the Pod template's annotations. */
async function addressesFor(kind: ScenarioKind, run: ScenarioRun, c: ControllerProcess): Promise<Record<string, string>> {
  const n = run.deployments * run.replicas;
  const pool = async (name: string, cidr: string, count: number): Promise<void> => {
    await createPool(run.kc, c.labels, name, { subnet: cidr, ips: [firstAddresses(cidr, count)] });
  };
  switch (kind) {
    case "baseline":
    case "floor":
    case "floor-record":
      return {};
    case "pool-v4":
      await pool("exact-v4", "10.180.0.0/16", n);
      return { "ipam.spidernet.io/ippool": '{"ipv4":["exact-v4"]}' };
    case "churn":
      await pool("churn-v4", "10.184.0.0/16", n);
      return { "ipam.spidernet.io/ippool": '{"ipv4":["churn-v4"]}' };
    case "pool-dual":
      await pool("dual-v4", "10.181.0.0/16", n);
      await pool("dual-v6", "fd00:181::/64", n);
      return { "ipam.spidernet.io/ippool": '{"ipv4":["dual-v4"],"ipv6":["dual-v6"]}' };
    case "plenty":
      await pool("plenty-v4", "10.183.0.0/16", 65_534);
      return { "ipam.spidernet.io/ippool": '{"ipv4":["plenty-v4"]}' };
    case "auto":
      await new CustomResources<SpiderSubnet>(run.kc, SUBNET_PLURAL).create({ apiVersion: API_VERSION, kind: "SpiderSubnet", metadata: { name: "auto-subnet", labels: c.labels }, spec: { subnet: "10.182.0.0/16", ips: [firstAddresses("10.182.0.0/16", n)] } });
      return { "ipam.spidernet.io/subnet": '{"ipv4":["auto-subnet"]}', "ipam.spidernet.io/ippool-ip-number": "+0" };
  }
}

/** Creates the wave and waits for it, timing from the first create. */
async function timedWave(run: ScenarioRun, w: Wave, withAddress: boolean, before?: () => Promise<void>): Promise<{ outcome: WaveOutcome; startedAt: number; createsRefused: number }> {
  const startedAt = performance.now();
  const stop = new AbortController();
  const done = waitWaveRunning(run.kc, w, { count: w.deployments * w.replicas, withAddress, timeoutMs: run.timeoutMs, signal: stop.signal }, run.log);
  try {
    await before?.();
    const createsRefused = await createWave(run.kc, w);
    return { outcome: await done, startedAt, createsRefused };
  } catch (err) {
    stop.abort();
    await done;
    throw err;
  }
}

/** The webhook's figures for the scenario, from its /metrics. */
async function webhookFigures(c: ControllerProcess): Promise<Pick<ScenarioResult, "admissions" | "admissionP50Ms" | "admissionP99Ms" | "conflicts" | "refused">> {
  const m = parseMetrics(await fetchLocal(`http://127.0.0.1:${c.metricsPort}/metrics`));
  const pod = { webhook: "mutate-pod" };
  const admissions = sumOf(m, "spiderpool_webhook_requests_total", pod);
  return {
    admissions,
    admissionP50Ms: histogramQuantile(m, "spiderpool_webhook_request_duration_seconds", 0.5, pod) * 1000,
    admissionP99Ms: histogramQuantile(m, "spiderpool_webhook_request_duration_seconds", 0.99, pod) * 1000,
    conflicts: sumOf(m, "spiderpool_ipam_allocation_update_ippool_conflict_counts_total"),
    refused: admissions - sumOf(m, "spiderpool_webhook_requests_total", { ...pod, result: "allowed" }),
  };
}

/** The checker's verdict once reclamation and binding have settled (or what it last saw). */
async function verdictOf(run: ScenarioRun, labels: Record<string, string>): Promise<string> {
  const format = (r: { leaked: number; missing: number; duplicates: number }): string => `${r.leaked} leaked, ${r.missing} missing, ${r.duplicates} duplicates`;
  let last = "";
  try {
    await waitFor("a clean consistency report", async () => {
      const r = await consistencyOf(run.kc, labels);
      last = format(r);
      return r.leaked + r.missing + r.duplicates === 0;
    }, 60_000, 1000);
    return `clean (${last})`;
  } catch {
    return last;
  }
}

/**
 * Runs one scenario from a fresh namespace and controller process, and removes its workload
 * at the end; a scenario that cannot complete (its Deployments refused for good) comes back
 * with `error` and the figures so far.
 */
export async function runScenario(run: ScenarioRun, kind: ScenarioKind, settings: Record<string, string> = {}): Promise<ScenarioResult> {
  const c = await spawnController(run.kubeconfig, `sc-${kind}`, settings);
  if (kind === "floor" || kind === "floor-record") return floorScenario(run, c, kind === "floor-record");
  const namespace = await createNamespace(run.kc, `sc-${kind}`, kind === "baseline" ? {} : c.labels);
  const tried = Object.keys(settings).length > 0 ? { settings } : {};
  try {
    return { ...(await measured(run, kind, c, namespace)), ...tried };
  } catch (err) {
    const figures = await webhookFigures(c);
    return { kind, pods: run.deployments * run.replicas, running: 0, failed: 0, ...figures, createsRefused: 0, controllerPeakRss: c.peakRss(), verdict: "—", error: String((err as Error).message).split("\n")[0]?.slice(0, 300), ...tried };
  } finally {
    await run.kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
    await waitNoPods(run.kc, namespace);
    // The scenario's pools and subnet go too (the controller lets them go once empty), so a scenario can run again.
    await removeAddresses(run.kc, c.labels, run.log);
    await c.stop();
  }
}

/** Deletes the pools, then the subnets, labelled for the scenario's controller and waits until they are gone. */
async function removeAddresses(kc: KubeConfig, labels: Record<string, string>, log: Log): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
  for (const plural of [IPPOOL_PLURAL, SUBNET_PLURAL]) {
    const list = async (): Promise<string[]> => ((await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural, labelSelector })) as { items: { metadata: { name: string } }[] }).items.map((o) => o.metadata.name);
    for (const name of await list()) await api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural, name }).catch((err: unknown) => log.warn({ err, name }, "scenario cleanup"));
    await waitFor(`the scenario's ${plural} gone`, async () => (await list()).length === 0, 60_000, 500).catch((err: unknown) => log.warn({ err }, "scenario cleanup"));
  }
}

async function measured(run: ScenarioRun, kind: ScenarioKind, c: ControllerProcess, namespace: string): Promise<ScenarioResult> {
  const webhook = kind !== "baseline";
  const annotations = await addressesFor(kind, run, c);
  const shape = { namespace, deployments: run.deployments, replicas: run.replicas, annotations, nodes: run.nodes };
  const first: Wave = { ...shape, wave: "a" };
  const own = { controller: c.pid };
  let before = await readCosts(run.kc, own);
  let timed = await timedWave(run, first, webhook);
  let createsRefused = timed.createsRefused;
  if (kind === "churn") {
    // Churn: the first wave holds every address; delete it and create the next at once.
    if (timed.outcome.doneAt === undefined) throw new Error(`churn: the first wave did not run (${timed.outcome.running} Running)`);
    before = await readCosts(run.kc, own);
    timed = await timedWave(run, { ...shape, wave: "b" }, webhook, () => deleteWave(run.kc, first));
    createsRefused += timed.createsRefused;
  }
  const costs = costsBetween(before, await readCosts(run.kc, own), run.deployments * run.replicas);
  const figures = await webhookFigures(c);
  const verdict = webhook ? await verdictOf(run, c.labels) : "—";
  return { kind, pods: run.deployments * run.replicas, wallMs: timed.outcome.doneAt === undefined ? undefined : timed.outcome.doneAt - timed.startedAt, running: timed.outcome.running, failed: timed.outcome.failed, ...figures, createsRefused, controllerPeakRss: c.peakRss(), verdict, costs };
}

/**
 * The floor (floor-webhook.ts): the baseline's workload in a namespace under a webhook that
 * answers every admission at once and writes nothing, registered as the controller's are.
 * With `record` (the design's floor) the floor's process also writes each placed Pod's
 * SpiderEndpoint in one create (floor-recorder.ts), the one write per Pod design.md asks of
 * the controller. The controller process runs beside it, idle, as it does beside the baseline.
 */
async function floorScenario(run: ScenarioRun, c: ControllerProcess, record: boolean): Promise<ScenarioResult> {
  const kind: ScenarioKind = record ? "floor-record" : "floor";
  const labels = { "spiderpool.local/floor": c.namespace };
  const namespace = await createNamespace(run.kc, `sc-${kind}`, labels);
  const floor = await spawnFloorWebhook(run.kubeconfig, `${c.namespace}-floor`, labels, record ? namespace : undefined);
  let stopped: Awaited<ReturnType<typeof floor.stop>> | undefined;
  try {
    const shape = { namespace, deployments: run.deployments, replicas: run.replicas, annotations: {}, nodes: run.nodes };
    const own = { controller: c.pid, floor: floor.pid };
    const before = await readCosts(run.kc, own);
    const { outcome, startedAt, createsRefused } = await timedWave(run, { ...shape, wave: "a" }, false);
    const costs = costsBetween(before, await readCosts(run.kc, own), run.deployments * run.replicas);
    stopped = await floor.stop();
    const wallMs = outcome.doneAt === undefined ? undefined : outcome.doneAt - startedAt;
    const admissions = stopped.answered["/webhooks/mutate-pod"] ?? 0;
    const pods = run.deployments * run.replicas;
    // The design's floor counts only if it wrote what it stands for: every Pod's endpoint.
    const verdict = record ? `${stopped.recorded} of ${pods} endpoints written` : "—";
    return { kind, pods, wallMs, running: outcome.running, failed: outcome.failed, admissions, admissionP50Ms: NaN, admissionP99Ms: NaN, conflicts: 0, refused: 0, createsRefused, controllerPeakRss: NaN, verdict, costs };
  } finally {
    if (!stopped) await floor.stop();
    await run.kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
    await waitNoPods(run.kc, namespace);
    await c.stop();
  }
}
