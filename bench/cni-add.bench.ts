// CNI ADD wall time, measured side by side in one run on one local control plane: the
// spiderpool plugin through its agent (the artifact a node gets), Whereabouts (the Go IPAM
// most Multus users run, built from the Go module proxy by this bench), Debian's host-local
// (Go, no API server at all), the plugin's own bare start-up (VERSION) and `node -e 0`.
// Each alone (interleaved rounds), then in bursts of 20 started at once on one node.
//   npx tsx bench/cni-add.bench.ts [rounds=60] [bursts=10]
// docs/performance.md records its output.
import type { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { CustomResources } from "../k8s/resources.js";
import { REPO_ROOT } from "../local-cluster/binaries.js";
import { CONTROL_PLANE, type ClusterState, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { DEBIAN_CNI_DIR, PATH_WITHOUT_NODE, installedCniBinDir } from "../local-cluster/cni-exec.js";
import { startLocalController } from "../local-cluster/controller.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { applyCrds, waitFor } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { createPod, createPool, podSpec } from "../local-cluster/pods.js";
import { freePort, startProcess } from "../local-cluster/processes.js";
import { type Run, Samples, TABLE_HEAD, percentile, ratio, timeBurst, timeRun } from "./cni-timing.js";
import { applyWhereaboutsCrds, whereaboutsBinary, whereaboutsConf } from "./whereabouts.js";

const rounds = Number(process.argv[2] ?? 60);
const bursts = Number(process.argv[3] ?? 10);
const BURST = 20;
const NODE = "bench-node";

/** A command under test: its run for pod slot `k` and sandbox `id`, and what undoes an ADD (untimed). */
interface Command {
  name: string;
  run: (k: number, id: string) => Run;
  undo?: (k: number, id: string) => Run;
}

/** BURST Pods on NODE, each with its reservation recorded in a SpiderEndpoint for NODE. */
async function reservedPods(kc: KubeConfig): Promise<{ namespace: string; uids: string[]; stop: () => Promise<void> }> {
  const tc = await startLocalController(kc, { prefix: "benchcni" });
  await createPool(kc, tc.labels, "bench-cni-pool", { subnet: "10.91.0.0/24", ips: ["10.91.0.10-10.91.0.200"] });
  const namespace = await tc.createPodNamespace("bench-cni");
  const annotations = { "ipam.spidernet.io/ippool": '{"ipv4":["bench-cni-pool"]}' };
  const pods = await Promise.all(Array.from({ length: BURST }, (_, k) => createPod(kc, namespace, podSpec(`bench-${k}`, annotations, { nodeName: NODE }))));
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
  for (let k = 0; k < BURST; k++) await waitFor(`endpoint bench-${k}`, async () => (await endpoints.get(`bench-${k}`, namespace))?.status?.current?.node === NODE);
  return { namespace, uids: pods.map((p) => p.metadata?.uid ?? ""), stop: () => tc.stop() };
}

/** spiderpool-agent as its own process, as on a node; returns its socket and health port. */
async function startAgentProcess(state: ClusterState): Promise<{ socket: string; health: number }> {
  const socket = join(state.dir, "agent", "spiderpool.sock");
  const health = await freePort();
  const args = ["--import", "tsx", join(REPO_ROOT, "agent/main.ts"), "--node-name", NODE, "--socket", socket, "--kubeconfig", state.kubeconfig, "--health-port", String(health), "--log-level", "warn"];
  startProcess(state.dir, "spiderpool-agent", process.execPath, args, { PATH: process.env.PATH ?? "" });
  await waitFor("spiderpool-agent ready", async () => (await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => undefined))?.status === 200, 60_000);
  return { socket, health };
}

function commands(o: { bin: string; socket: string; namespace: string; uids: string[]; kubeconfig: string; dir: string }): Command[] {
  const bare = { PATH: PATH_WITHOUT_NODE };
  // Without K8S_POD_UID the plugin cannot name the Pod's answer file and asks the agent over its socket.
  const cni = (command: string, k: number, id: string, withUid = true): NodeJS.ProcessEnv => ({
    ...bare,
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: "/var/run/netns/bench",
    CNI_IFNAME: "eth0",
    CNI_PATH: `${o.bin}:${DEBIAN_CNI_DIR}`,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${o.namespace};K8S_POD_NAME=bench-${k};K8S_POD_INFRA_CONTAINER_ID=${id}${withUid ? `;K8S_POD_UID=${o.uids[k] ?? ""}` : ""}`,
  });
  const plugin = (name: string, path: string, conf: string, withUid = true): Command => ({
    name,
    run: (k, id) => ({ cmd: path, env: cni("ADD", k, id, withUid), stdin: conf }),
    undo: (k, id) => ({ cmd: path, env: cni("DEL", k, id, withUid), stdin: conf }),
  });
  const spiderConf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", type: "macvlan", ipam: { type: "spiderpool", ipam_unix_socket_path: o.socket } });
  const spiderpool = join(o.bin, "spiderpool");
  return [
    { name: "`node -e 0`", run: () => ({ cmd: process.execPath, env: { ...bare, NODE_OPTIONS: "" }, stdin: "" }) },
    { name: "`spiderpool` VERSION (its bare start-up)", run: () => ({ cmd: spiderpool, env: { ...bare, CNI_COMMAND: "VERSION" }, stdin: '{"cniVersion":"1.0.0"}' }) },
    plugin("`host-local` ADD", join(DEBIAN_CNI_DIR, "host-local"), JSON.stringify({ cniVersion: "1.0.0", name: "bench", type: "macvlan", ipam: { type: "host-local", dataDir: join(o.dir, "host-local"), ranges: [[{ subnet: "10.92.0.0/16" }]] } })),
    plugin("Whereabouts ADD", whereaboutsBinary(), whereaboutsConf(o.kubeconfig, "10.93.0.0/16", o.dir)),
    plugin("`spiderpool` ADD", spiderpool, spiderConf),
    plugin("`spiderpool` ADD over the agent's socket (no K8S_POD_UID)", spiderpool, spiderConf, false),
  ];
}

/** Every command alone, interleaved round by round (load from elsewhere hits all alike), then in bursts. */
async function measure(cmds: Command[]): Promise<Map<string, Samples>> {
  const samples = new Map(cmds.map((c) => [c.name, new Samples()]));
  for (let round = -3; round < rounds; round++) {
    for (const [i, c] of cmds.entries()) {
      const id = `alone-${round}-${i}`;
      const k = (round + BURST) % BURST;
      const t = await timeRun(c.run(k, id));
      if (c.undo) await timeRun(c.undo(k, id));
      if (round >= 0) (samples.get(c.name) as Samples).alone.push(t);
    }
  }
  for (let b = -1; b < bursts; b++) {
    for (const [i, c] of cmds.entries()) {
      const ids = Array.from({ length: BURST }, (_, k) => `burst-${b}-${i}-${k}`);
      const burst = await timeBurst(ids.map((id, k) => c.run(k, id)));
      if (c.undo) await timeBurst(ids.map((id, k) => (c.undo as Command["run"])(k, id)));
      if (b < 0) continue;
      const s = samples.get(c.name) as Samples;
      s.burstEach.push(...burst.each);
      s.burstWall.push(burst.wall);
    }
  }
  return samples;
}

function report(samples: Map<string, Samples>, lookups: string): void {
  const p50 = (name: string, f: (s: Samples) => number[]): number => percentile(f(samples.get(name) ?? new Samples()), 50);
  const [node, version, , wb, sp, socket] = [...samples.keys()] as [string, string, string, string, string, string];
  console.log(`\nNode ${process.version}, ${rounds} rounds alone, ${bursts} bursts of ${BURST}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log([...TABLE_HEAD, ...[...samples].map(([name, s]) => s.row(name))].join("\n"));
  console.log("\n| ratio | value | target |\n| --- | --- | --- |");
  console.log(`| spiderpool ADD / Whereabouts ADD, alone (p50) | ${ratio(p50(sp, (s) => s.alone), p50(wb, (s) => s.alone))} | ≤ 0.5× |`);
  console.log(`| spiderpool / Whereabouts, burst of ${BURST} wall time (p50) | ${ratio(p50(sp, (s) => s.burstWall), p50(wb, (s) => s.burstWall))} | ≤ 0.25× |`);
  console.log(`| spiderpool ADD / its bare start-up (p50) | ${ratio(p50(sp, (s) => s.alone), p50(version, (s) => s.alone))} | ≤ 1.3× |`);
  console.log(`| spiderpool ADD / \`node -e 0\` (p50) | ${ratio(p50(sp, (s) => s.alone), p50(node, (s) => s.alone))} | |`);
  console.log(`| spiderpool ADD over the socket / Whereabouts ADD, alone (p50) | ${ratio(p50(socket, (s) => s.alone), p50(wb, (s) => s.alone))} | |`);
  console.log(`| spiderpool ADD over the socket / its bare start-up (p50) | ${ratio(p50(socket, (s) => s.alone), p50(version, (s) => s.alone))} | |`);
  console.log(`\nagent: ${lookups}`);
}

await ensureBinariesOrExit([...CONTROL_PLANE, "whereabouts"]);
const state = await startCluster("bench-cni", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  await applyWhereaboutsCrds(kc);
  const { namespace, uids, stop } = await reservedPods(kc);
  const agent = await startAgentProcess(state);
  const bin = await installedCniBinDir();
  const cmds = commands({ bin, socket: agent.socket, namespace, uids, kubeconfig: state.kubeconfig, dir: mkdtempSync(join(tmpdir(), "bench-cni-")) });
  const samples = await measure(cmds);
  const metrics = await (await fetch(`http://127.0.0.1:${agent.health}/metrics`)).text();
  const lookups = [
    ...[...metrics.matchAll(/^spiderpool_agent_cni_requests_total\{command="(\w+)",result="(\w+)"\} (\d+)/gm)].map((m) => `${m[3]} ${m[1]} request(s) ${m[2]}`),
    ...[...metrics.matchAll(/^spiderpool_agent_endpoint_lookups_total\{source="(\w+)"\} (\d+)/gm)].map((m) => `${m[2]} record look(s) at the ${m[1]}`),
  ].join(", ");
  report(samples, lookups || "no record lookups reported");
  if (process.env.SPIDERPOOL_BENCH_HOLD) {
    // Keeps the set-up for timing the commands from outside; ends on Ctrl-C.
    console.log(`holding: socket ${agent.socket}, namespace ${namespace}, uids ${uids.join(",")}, kubeconfig ${state.kubeconfig}, bin ${bin}`);
    await new Promise((resolve) => process.once("SIGINT", resolve));
  }
  await stop();
} finally {
  await stopCluster(state.dir);
}
