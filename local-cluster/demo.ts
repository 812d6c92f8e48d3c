import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1Pod } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseAssignedIPs, type AssignedNic } from "../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import { table } from "../cli/output.js";
import { REPO_ROOT } from "./binaries.js";
import { apply, waitFor } from "./kube.js";
import { addressesIn } from "./netns.js";
import { readSandboxes, type SandboxMap } from "./system.js";

export const DEMO_NAMESPACE = "demo";
export const DEMO_MANIFEST = join(REPO_ROOT, "docs/examples/quick-start.yaml");
/** The demo's Pods: the Deployment's 2, the StatefulSet's 2, pinned, dual, two-nics. */
export const DEMO_POD_COUNT = 7;

export function demoObjects(): KubernetesObject[] {
  return (yaml.loadAll(readFileSync(DEMO_MANIFEST, "utf8")) as KubernetesObject[]).filter(Boolean);
}

/** Applies docs/examples/quick-start.yaml; the first writes may meet the apiserver before it trusts the webhook's new CA, so they are retried. */
export async function applyDemo(kc: KubeConfig): Promise<void> {
  const objects = demoObjects();
  await waitFor("the quick-start objects admitted", async () => {
    await apply(kc, objects);
    return true;
  }, 120_000, 500);
}

/** Waits until every demo Pod runs (its network namespace set up by its node) and returns them. */
export async function waitDemoRunning(kc: KubeConfig, dir: string, timeoutMs = 180_000): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(`${DEMO_POD_COUNT} demo Pods running with their network namespaces`, async () => {
    const pods = (await core.listNamespacedPod({ namespace: DEMO_NAMESPACE })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const sandboxes = readSandboxes(dir);
    const running = pods.filter((p) => p.status?.phase === "Running" && sandboxes[`${DEMO_NAMESPACE}/${p.metadata?.name}`]?.uid === p.metadata?.uid);
    return running.length >= DEMO_POD_COUNT && running.length === pods.length ? running : undefined;
  }, timeoutMs, 500);
}

/** One NIC of one Pod: what its annotation says, and what its network namespace holds. */
export interface DemoRow {
  pod: string;
  node: string;
  nic: string;
  /** From the Pod's assigned-ips annotation. */
  addresses: string[];
  pools: string[];
  /** `ip addr` of the NIC inside the Pod's network namespace (global scope). */
  inNetns: string[];
  netns: string;
}

const addressesOf = (n: AssignedNic): string[] => [n.ipv4, n.ipv6].filter((a): a is string => !!a);
const poolsOf = (n: AssignedNic): string[] => [n.ipv4Pool, n.ipv6Pool].filter((a): a is string => !!a);

export async function demoRows(pods: readonly V1Pod[], sandboxes: SandboxMap): Promise<DemoRow[]> {
  const rows: DemoRow[] = [];
  for (const pod of [...pods].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""))) {
    const name = pod.metadata?.name ?? "";
    const sandbox = sandboxes[`${pod.metadata?.namespace}/${name}`];
    const text = pod.metadata?.annotations?.[ANNO_ASSIGNED_IPS];
    for (const nic of text ? parseAssignedIPs(text).ips : []) {
      const inNetns = sandbox ? await addressesIn(sandbox.netns, nic.interface).catch(() => []) : [];
      rows.push({ pod: name, node: pod.spec?.nodeName ?? "", nic: nic.interface, addresses: addressesOf(nic), pools: poolsOf(nic), inNetns: inNetns.sort(), netns: sandbox?.netns ?? "" });
    }
  }
  return rows;
}

/** The table `npm start` prints (test/e2e/readme.test.ts reads it back). */
export function formatDemoTable(rows: readonly DemoRow[]): string {
  const head = ["POD", "NODE", "NIC", "ADDRESSES (annotation)", "POOLS", "IN NETNS (ip addr)", "NETNS"];
  return table([head, ...rows.map((r) => [r.pod, r.node, r.nic, r.addresses.join(","), r.pools.join(","), r.inNetns.join(",") || "-", r.netns])]);
}
