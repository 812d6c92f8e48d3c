// npm start — the whole path on this machine: a local control plane on 127.0.0.1 (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok), the CRDs, two
// spiderpool-controller replicas with leader election, two simulated nodes running the real
// spiderpool-agent and CNI path (Debian's macvlan with the built spiderpool plugin) into
// network namespaces, and the workloads of docs/examples/quick-start.yaml. Prints each Pod's
// addresses as its annotation says and as its network namespace holds them, the pool usage,
// and how to use kubectl. Runs until Ctrl-C, then stops everything and removes what it made.
//   --detach  leave it all running (npm run stop stops it)
//   --exit    stop as soon as the table is shown
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cachedPath, findBinary, REPO_ROOT } from "../local-cluster/binaries.js";
import { FULL_CLUSTER, startCluster } from "../local-cluster/cluster.js";
import { applyDemo, demoRows, formatDemoTable, waitDemoRunning } from "../local-cluster/demo.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { DEBIAN_CNI_DIR } from "../local-cluster/cni-exec.js";
import { applyCrds } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { waitReady } from "../local-cluster/processes.js";
import { readSandboxes, readSystemInfo, startSystemProcess } from "../local-cluster/system.js";
import { stopLocalSystem } from "../local-cluster/system-stop.js";
import { runCli } from "../cli/main.js";

const detach = process.argv.includes("--detach");
const exitAfterDemo = process.argv.includes("--exit");
const name = process.env.SPIDERPOOL_CLUSTER_NAME ?? "local";
const stopCommand = name === "local" ? "npm run stop" : `SPIDERPOOL_CLUSTER_NAME=${name} npm run stop`;

/** The kubectl built with the control plane (a kubectl on PATH may be too old for it). */
const kubectlPath = (): string => (existsSync(cachedPath("kubectl")) ? cachedPath("kubectl") : findBinary("kubectl"));

let stopping: Promise<void> | undefined;
const shutdown = (code: number): Promise<void> =>
  (stopping ??= (async () => {
    console.log("stopping ...");
    const { swept } = await stopLocalSystem(name);
    console.log(`stopped${swept.length ? ` (removed by hand: ${swept.join(", ")})` : ""}`);
    process.exit(code);
  })());
// Ctrl-C at any point, even while starting, stops what was started and leaves nothing.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void shutdown(130));

/** What the CNI path needs on this host: root for network namespaces, Debian's macvlan and iproute2. */
function checkHost(): void {
  if (process.getuid?.() !== 0) throw new Error("npm start creates network namespaces and links: run it as root");
  const missing = (): string[] => [
    ...(existsSync(`${DEBIAN_CNI_DIR}/macvlan`) ? [] : [`${DEBIAN_CNI_DIR}/macvlan`]),
    ...(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some((p) => existsSync(p)) ? [] : ["ip (iproute2)"]),
  ];
  if (missing().length === 0) return;
  // A fresh machine: the Debian packages first, as the binaries are built when missing.
  console.log(`installing what the CNI path needs (${missing().join(", ")}) with apt-get ...`);
  execFileSync("bash", [join(REPO_ROOT, "scripts/ensure-deps.sh"), "--packages-only"], { stdio: "inherit" });
  if (missing().length > 0) throw new Error(`still missing ${missing().join(", ")}: install the Debian packages containernetworking-plugins and iproute2`);
}

async function bringUp(): Promise<string> {
  checkHost();
  // Whatever is not on PATH or in the cache is built first (once; it takes a while).
  await ensureBinariesOrExit([...FULL_CLUSTER, "kubectl"]);
  console.log(`starting the local control plane "${name}" (${FULL_CLUSTER.join(", ")}) ...`);
  const state = await startCluster(name, FULL_CLUSTER);
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  console.log("starting two spiderpool-controller replicas and two simulated nodes (agent + macvlan + spiderpool plugin) ...");
  const system = startSystemProcess(state.dir);
  await waitReady(system, "the controllers and nodes ready", () => Promise.resolve(readSystemInfo(state.dir) !== undefined), 300_000);
  console.log("applying docs/examples/quick-start.yaml (pools, subnets, a Deployment, a StatefulSet, pinned, dual-stack and two-NIC Pods) ...");
  await applyDemo(kc);
  const pods = await waitDemoRunning(kc, state.dir);
  console.log(`\nPods in namespace demo (addresses from ipam.spidernet.io/assigned-ips; IN NETNS from ip addr inside each Pod's network namespace):\n`);
  console.log(formatDemoTable(await demoRows(pods, readSandboxes(state.dir))));
  console.log("Pool usage (kubectl spiderpool usage):\n");
  await runCli({ argv: ["usage", "--kubeconfig", state.kubeconfig], env: process.env, io: { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), tty: process.stdout.isTTY === true } });
  const info = readSystemInfo(state.dir);
  console.log(`
Point kubectl at it:
  export KUBECONFIG=${state.kubeconfig}
  alias kubectl=${kubectlPath()}
  kubectl get pods -n demo -o wide; kubectl get spiderippools,spidersubnets,spiderendpoints -A
The kubectl plugin (docs/cli.md):
  export PATH=${REPO_ROOT}/bin:$PATH
  kubectl spiderpool usage; kubectl spiderpool who 172.18.40.77; kubectl spiderpool why -n demo two-nics
Controller replicas: ${info?.replicas.map((r) => `${r.identity} :${r.port}`).join(", ")} behind ${info?.controllerUrl}; logs: ${state.dir}/logs`);
  return state.dir;
}

try {
  await bringUp();
} catch (err) {
  console.error(`npm start failed: ${(err as Error).message}`);
  await shutdown(1);
}
if (exitAfterDemo) {
  await shutdown(0);
} else if (detach) {
  console.log(`\nleft running (control plane, controllers, nodes); stop it and remove everything with: ${stopCommand}`);
  process.exit(0);
} else {
  console.log("\nrunning; try kubectl scale -n demo deploy/web --replicas=4; Ctrl-C stops everything");
  // Keeps the process alive until a signal calls shutdown().
  setInterval(() => undefined, 1 << 30);
}
