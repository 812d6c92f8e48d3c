import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, kwokStagesDir } from "./binaries.js";
import { publishAdmissionClientCa } from "./admission-client.js";
import { adminKubeConfig } from "./kubeconfig.js";
import { admissionConfiguration, kubeconfigYaml, writeClusterPki } from "./pki.js";
import { cleanStale, freePort, processesOf, startProcess, stopPids, waitReady, type Managed } from "./processes.js";

/**
 * A local Kubernetes control plane on 127.0.0.1: etcd and kube-apiserver for the
 * integration tier, plus kube-controller-manager, kube-scheduler and kwok for e2e and for
 * the local demo. Nothing listens beyond loopback.
 */
export type Component = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";
export const CONTROL_PLANE: Component[] = ["etcd", "kube-apiserver"];
export const FULL_CLUSTER: Component[] = [...CONTROL_PLANE, "kube-controller-manager", "kube-scheduler", "kwok"];

/** Nodes with this annotation are simulated by kwok; the project's own test nodes are not. */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

export interface ClusterState {
  name: string;
  dir: string;
  kubeconfig: string;
  server: string;
  caFile: string;
  ports: Partial<Record<Component, number>>;
  components: Component[];
  /** Identifies the run that started it, so a second jest project extends it instead of replacing it. */
  runId: string;
}

export function clusterDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.SPIDERPOOL_CLUSTER_DIR ?? join(tmpdir(), `spiderpool-cluster-${name}`);
}

export function readState(dir: string): ClusterState | undefined {
  if (!dir) return undefined;
  const file = join(dir, "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterState) : undefined;
}

function saveState(state: ClusterState): void {
  writeFileSync(join(state.dir, "state.json"), JSON.stringify(state, null, 2));
}

function probe(url: string, ca?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => resolve(ok);
    const onRes = (res: import("node:http").IncomingMessage): void => {
      res.resume();
      done(res.statusCode === 200);
    };
    const req = url.startsWith("https:")
      ? httpsGet(url, { agent: false, ...(ca ? { ca } : { rejectUnauthorized: false }) }, onRes)
      : httpGet(url, { agent: false }, onRes);
    req.on("error", () => done(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

// etcd 3.5+ has --unsafe-no-fsync (a large speed-up for throwaway data); 3.4 does not.
function etcdSupportsNoFsync(bin: string): boolean {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  const m = /etcd Version: (\d+)\.(\d+)/.exec(out);
  return !!m && (Number(m[1]) > 3 || Number(m[2]) >= 5);
}

// Data on tmpfs when there is one: etcd's disk writes dominate apiserver write latency.
function etcdDataDir(state: Pick<ClusterState, "name" | "dir">): string {
  return existsSync("/dev/shm") ? join("/dev/shm", `spiderpool-etcd-${state.name}`) : join(state.dir, "etcd");
}

async function startEtcd(state: ClusterState): Promise<void> {
  const bin = findBinary("etcd");
  const client = await freePort();
  const peer = await freePort();
  // The data lives on tmpfs, reached through a link inside the state directory so that
  // etcd's command line names the state directory like every other component's.
  const dataDir = join(state.dir, "etcd-data");
  mkdirSync(etcdDataDir(state), { recursive: true });
  symlinkSync(etcdDataDir(state), dataDir);
  const args = [
    "--name=local",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${client}`,
    `--advertise-client-urls=http://127.0.0.1:${client}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=local=http://127.0.0.1:${peer}`,
    "--log-level=warn",
  ];
  if (etcdSupportsNoFsync(bin)) args.push("--unsafe-no-fsync=true");
  const p = startProcess(state.dir, "etcd", bin, args);
  state.ports.etcd = client;
  await waitReady(p, `http://127.0.0.1:${client}/health`, () => probe(`http://127.0.0.1:${client}/health`));
}

async function startApiserver(state: ClusterState): Promise<void> {
  const pki = writeClusterPki(join(state.dir, "pki"));
  const port = await freePort();
  state.server = `https://127.0.0.1:${port}`;
  state.caFile = pki.caCert;
  // Admission webhooks are called with a client certificate, so they can tell the apiserver from anyone else.
  const admission = admissionConfiguration(pki, state.dir);
  const args = [
    `--etcd-servers=http://127.0.0.1:${state.ports.etcd}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    // Without it the apiserver looks for a default route, which these hosts lack.
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    `--cert-dir=${join(state.dir, "pki")}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saPublic}`,
    `--service-account-signing-key-file=${pki.saPrivate}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    "--authorization-mode=Node,RBAC",
    `--admission-control-config-file=${admission.configFile}`,
    "--allow-privileged=true",
    // Fast eviction after a node failure, for the node-failure tests.
    "--default-not-ready-toleration-seconds=10",
    "--default-unreachable-toleration-seconds=10",
    // Scale tests create hundreds of pods at once.
    "--max-requests-inflight=1000",
    "--max-mutating-requests-inflight=500",
    "--profiling=false",
    "--v=1",
  ];
  const p = startProcess(state.dir, "kube-apiserver", findBinary("kube-apiserver"), args);
  state.ports["kube-apiserver"] = port;
  const ca = readFileSync(pki.caCert, "utf8");
  writeFileSync(state.kubeconfig, kubeconfigYaml(state.server, ca, readFileSync(pki.adminCert, "utf8"), readFileSync(pki.adminKey, "utf8")), { mode: 0o600 });
  await waitReady(p, `${state.server}/readyz`, () => probe(`${state.server}/readyz`, ca));
  await publishAdmissionClientCa(adminKubeConfig(state), readFileSync(pki.admissionClientCa, "utf8"));
}

/**
 * kube-controller-manager and kube-scheduler serve /healthz over TLS on a loopback port,
 * with a self-signed certificate in `certDir`, and ask the apiserver who may call it.
 */
function servingArgs(state: ClusterState, port: number, certDir: string): string[] {
  return [
    `--authentication-kubeconfig=${state.kubeconfig}`,
    `--authorization-kubeconfig=${state.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${join(state.dir, certDir)}`,
  ];
}

/** Starts `component` with `args` and waits for its /healthz on `port`. */
async function startServing(state: ClusterState, component: "kube-controller-manager" | "kube-scheduler", port: number, args: string[]): Promise<void> {
  const p = startProcess(state.dir, component, findBinary(component), args);
  state.ports[component] = port;
  await waitReady(p, `https://127.0.0.1:${port}/healthz`, () => probe(`https://127.0.0.1:${port}/healthz`));
}

async function startControllerManager(state: ClusterState): Promise<void> {
  const port = await freePort();
  const pkiDir = join(state.dir, "pki");
  const args = [
    `--kubeconfig=${state.kubeconfig}`,
    ...servingArgs(state, port, "kcm"),
    "--leader-elect=false",
    `--service-account-private-key-file=${join(pkiDir, "sa.key")}`,
    `--root-ca-file=${join(pkiDir, "ca.crt")}`,
    `--cluster-signing-cert-file=${join(pkiDir, "ca.crt")}`,
    `--cluster-signing-key-file=${join(pkiDir, "ca.key")}`,
    "--use-service-account-credentials=false",
    // Short node-failure detection for the tests that fail a node.
    "--node-monitor-period=2s",
    "--node-monitor-grace-period=16s",
    "--kube-api-qps=200",
    "--kube-api-burst=400",
    "--v=1",
  ];
  await startServing(state, "kube-controller-manager", port, args);
}

async function startScheduler(state: ClusterState): Promise<void> {
  const port = await freePort();
  const config = join(state.dir, "scheduler.yaml");
  writeFileSync(
    config,
    [
      "apiVersion: kubescheduler.config.k8s.io/v1",
      "kind: KubeSchedulerConfiguration",
      "clientConnection:",
      `  kubeconfig: ${state.kubeconfig}`,
      "  qps: 200",
      "  burst: 400",
      "leaderElection:",
      "  leaderElect: false",
      "",
    ].join("\n"),
  );
  await startServing(state, "kube-scheduler", port, [`--config=${config}`, ...servingArgs(state, port, "scheduler"), "--v=1"]);
}

function stageFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ["node/fast", "node/heartbeat-with-lease", "pod/fast"]) {
    const d = join(dir, sub);
    if (!existsSync(d)) throw new Error(`kwok stage documents are missing in ${d}; run: bash scripts/build-binaries.sh kwok`);
    for (const f of readdirSync(d)) if (f.endsWith(".yaml") && f !== "kustomization.yaml") out.push(join(d, f));
  }
  return out;
}

async function startKwok(state: ClusterState): Promise<void> {
  const port = await freePort();
  const args = [
    `--kubeconfig=${state.kubeconfig}`,
    "--manage-all-nodes=false",
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    `--server-address=127.0.0.1:${port}`,
    "--node-lease-duration-seconds=40",
    `--config=${stageFiles(kwokStagesDir()).join(",")}`,
  ];
  const p = startProcess(state.dir, "kwok", findBinary("kwok"), args, { ...process.env, HOME: state.dir });
  state.ports.kwok = port;
  await waitReady(p, `http://127.0.0.1:${port}/healthz`, () => probe(`http://127.0.0.1:${port}/healthz`));
}

const STARTERS: Record<Component, (s: ClusterState) => Promise<void>> = {
  etcd: startEtcd,
  "kube-apiserver": startApiserver,
  "kube-controller-manager": startControllerManager,
  "kube-scheduler": startScheduler,
  kwok: startKwok,
};

/**
 * Starts a fresh control plane named `name` with `components`, after removing whatever an
 * earlier run left in its state directory (processes included).
 */
export async function startCluster(name: string, components: Component[], runId = String(process.pid)): Promise<ClusterState> {
  const dir = clusterDir(name);
  await cleanStale(dir);
  await cleanStale(etcdDataDir({ name, dir }));
  mkdirSync(dir, { recursive: true });
  const state: ClusterState = { name, dir, kubeconfig: join(dir, "admin.kubeconfig"), server: "", caFile: "", ports: {}, components: [], runId };
  return extendCluster(state, components);
}

/** Starts the components of `components` that `state` does not run yet. */
export async function extendCluster(state: ClusterState, components: Component[]): Promise<ClusterState> {
  try {
    for (const c of FULL_CLUSTER) {
      if (!components.includes(c) || state.components.includes(c)) continue;
      await STARTERS[c](state);
      state.components.push(c);
      saveState(state);
    }
  } catch (err) {
    await stopCluster(state.dir);
    throw err;
  }
  return state;
}

/**
 * Restarts the kube-apiserver of a running cluster with the command line it runs with (same
 * port, same etcd), as an upgrade or a crash would: clients see their connections drop and
 * their watches end. Resolves once /readyz answers again.
 */
export async function restartApiserver(state: ClusterState): Promise<void> {
  const pid = Number(readFileSync(join(state.dir, "pids", "kube-apiserver.pid"), "utf8").trim());
  const [bin = "", ...args] = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  await stopPids([pid]);
  const p = startProcess(state.dir, "kube-apiserver", bin, args);
  const ca = readFileSync(state.caFile, "utf8");
  await waitReady(p, `${state.server}/readyz`, () => probe(`${state.server}/readyz`, ca));
}

/** Stops every process of the cluster in `dir` and removes its state. */
export async function stopCluster(dir: string): Promise<void> {
  const state = readState(dir);
  await stopPids(processesOf(dir));
  await cleanStale(dir);
  if (state) await cleanStale(etcdDataDir(state));
}

export type { Managed };
