import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { parseControllerConfig } from "../webhook/config.js";
import { startController, type Controller } from "../webhook/wiring.js";
import { localAdmissionClientCaFile } from "./admission-client.js";
import { startBalancer } from "./balancer.js";
import { REPO_ROOT } from "./binaries.js";
import type { ClusterState } from "./cluster.js";
import { installCni } from "./cni-exec.js";
import { apply, waitFor } from "./kube.js";
import { Underlay } from "./netns.js";
import { SimNode } from "./node-sim.js";
import { startProcess, type Managed } from "./processes.js";

/**
 * The Spiderpool side of `npm start`, run by one detached process of its own
 * (scripts/local-system.ts, pid file `<state>/pids/spiderpool-system.pid`) so that it
 * outlives `npm start --detach` like the control plane does: two spiderpool-controller
 * replicas with real leader election behind a round-robin balancer (the Service's stand-in),
 * and two simulated nodes, each a real spiderpool-agent plus a kubelet stand-in that runs
 * Debian's macvlan plugin with the built spiderpool plugin into network namespaces
 * (local-cluster/node-sim.ts). What it made carries names derived from the cluster's name,
 * so stopLocalSystem finds it again even after a crash.
 */
export const SYSTEM_PROCESS = "spiderpool-system";
export const SYSTEM_NAMESPACE = "spiderpool";
export const SIM_NODES = ["node-a", "node-b"] as const;
/** The cluster configuration of the demo: dual-stack. */
const CLUSTER_CONF = "enableIPv4: true\nenableIPv6: true\n";

/** A short id for link and namespace names (15 characters at most for a link). */
export function systemId(clusterName: string): string {
  return `spl${createHash("sha256").update(clusterName).digest("hex").slice(0, 5)}`;
}

export function systemFiles(dir: string): { ready: string; sandboxes: string; agents: string; cniBin: string } {
  return { ready: join(dir, "system.json"), sandboxes: join(dir, "sandboxes.json"), agents: join(dir, "agents"), cniBin: join(dir, "cni-bin") };
}

/** What the running system tells `npm start` (system.json). */
export interface SystemInfo {
  controllerUrl: string;
  replicas: { identity: string; port: number }[];
  nodes: string[];
}

/** Where each Pod's network namespace is (sandboxes.json): "ns/name" -> node and namespace name. */
export type SandboxMap = Record<string, { node: string; netns: string; uid: string }>;

export function readSandboxes(dir: string): SandboxMap {
  const file = systemFiles(dir).sandboxes;
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SandboxMap) : {};
}

export function readSystemInfo(dir: string): SystemInfo | undefined {
  const file = systemFiles(dir).ready;
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SystemInfo) : undefined;
}

async function startReplicas(kc: KubeConfig, log: Logger): Promise<{ replicas: Controller[]; url: string; close(): Promise<void> }> {
  const balancer = await startBalancer([]);
  const url = `https://127.0.0.1:${balancer.port}`;
  const config = parseControllerConfig(
    {
      SPIDERPOOL_NAMESPACE: SYSTEM_NAMESPACE,
      SPIDERPOOL_WEBHOOK_HOST: "127.0.0.1",
      SPIDERPOOL_WEBHOOK_PORT: "0",
      // The apiserver reaches the webhooks (and kubectl spiderpool the controller) through the balancer.
      SPIDERPOOL_WEBHOOK_URL: url,
      SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1",
      SPIDERPOOL_LOG_LEVEL: log.level,
      SPIDERPOOL_SYSTEM_USERS: "local-admin",
      // Only this control plane's apiserver may call the webhooks; metrics and probes on a port of their own.
      SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: await localAdmissionClientCaFile(kc),
      SPIDERPOOL_METRICS_PORT: "0",
    },
    [],
  );
  const replicas: Controller[] = [];
  // One after the other: the first creates the certificate Secret, the second adopts it.
  for (const i of [0, 1]) {
    replicas.push(await startController(config, { kubeConfig: kc, log: log.child({ replica: i }), identity: `spiderpool-controller-${i}` }));
    balancer.setBackends(replicas.map((r) => r.port));
  }
  await waitFor("both controller replicas synced", () => Promise.resolve(replicas.every((r) => r.isReady())), 120_000);
  return {
    replicas,
    url,
    async close() {
      for (const r of replicas) await r.close();
      await balancer.close();
    },
  };
}

/** Starts the controllers and the simulated nodes against the running control plane `state`. */
export async function runLocalSystem(state: ClusterState, kc: KubeConfig, log: Logger): Promise<{ info: SystemInfo; stop(): Promise<void> }> {
  const files = systemFiles(state.dir);
  mkdirSync(files.agents, { recursive: true });
  await apply(kc, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: SYSTEM_NAMESPACE } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "spiderpool-conf", namespace: SYSTEM_NAMESPACE }, data: { "conf.yml": CLUSTER_CONF } } as never,
  ]);
  const controllers = await startReplicas(kc, log);
  const id = systemId(state.name);
  const binDir = await installCni(files.cniBin);
  const underlay = await Underlay.create(id);
  const nodes: SimNode[] = [];
  const writeSandboxes = (): void => {
    const map: SandboxMap = {};
    for (const n of nodes) for (const [key, s] of n.sandboxes) map[key] = { node: n.o.name, netns: s.netnsName, uid: s.uid };
    writeFileSync(files.sandboxes, JSON.stringify(map, null, 2));
  };
  const stop = async (): Promise<void> => {
    // Nodes first (their namespaces and links), while the apiserver still answers; then the controllers.
    for (const n of nodes) await n.stop().catch((err: unknown) => log.warn({ err, node: n.o.name }, "node stop failed"));
    await underlay.destroy();
    await controllers.close();
  };
  try {
    for (const [i, name] of SIM_NODES.entries()) {
      const master = await underlay.plug(String.fromCharCode(97 + i));
      nodes.push(await SimNode.start({ kc, name, labels: { "spiderpool.local/sim-node": "true" }, master, binDir, socketPath: join(files.agents, `${name}.sock`), log: log.child({ node: name }), netnsPrefix: id, onSandboxesChanged: writeSandboxes }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  writeSandboxes();
  const info: SystemInfo = { controllerUrl: controllers.url, replicas: controllers.replicas.map((r, i) => ({ identity: `spiderpool-controller-${i}`, port: r.port })), nodes: [...SIM_NODES] };
  writeFileSync(files.ready, JSON.stringify(info, null, 2));
  return { info, stop };
}

/** Starts scripts/local-system.ts as a detached process of the cluster in `dir` (with a pid file). */
export function startSystemProcess(dir: string, env: NodeJS.ProcessEnv = process.env): Managed {
  const loader = join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
  // The state directory on the command line (with its slash) is how processesOf recognises it.
  return startProcess(dir, SYSTEM_PROCESS, process.execPath, ["--import", loader, join(REPO_ROOT, "scripts", "local-system.ts"), `${dir.replace(/\/+$/, "")}/`], env);
}

/** The demo's cluster, as kubectl spiderpool and the table read it. */
export async function demoNodesReady(kc: KubeConfig): Promise<boolean> {
  const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
  return SIM_NODES.every((n) => nodes.some((x) => x.metadata?.name === n && x.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")));
}
