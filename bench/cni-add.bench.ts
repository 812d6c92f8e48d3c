// CNI ADD wall time through the agent, measured side by side in one run with `node -e 0`
// (the floor for anything written for Node) and Debian's host-local IPAM plugin (Go).
//   npx tsx bench/cni-add.bench.ts [runs=40]
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { CustomResources } from "../k8s/resources.js";
import { startAgent } from "../agent/wiring.js";
import { parseAgentConfig } from "../agent/config.js";
import { CONTROL_PLANE, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { DEBIAN_CNI_DIR, PATH_WITHOUT_NODE, installedCniBinDir } from "../local-cluster/cni-exec.js";
import { startLocalController } from "../local-cluster/controller.js";
import { applyCrds, waitFor } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { createPod, createPool, podSpec } from "../local-cluster/pods.js";

const runs = Number(process.argv[2] ?? 40);

// Asynchronous: the agent answering the plugin runs in this very process.
function timeOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`${cmd} failed: ${out}`))));
    child.stdin.end(input ?? "");
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

await ensureBinariesOrExit(CONTROL_PLANE);
const state = await startCluster("bench-cni", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  const tc = await startLocalController(kc, { prefix: "benchcni" });
  await createPool(kc, tc.labels, "bench-cni-pool", { subnet: "10.91.0.0/24", ips: ["10.91.0.10-10.91.0.200"] });
  const ns = await tc.createPodNamespace("bench-cni");
  const node = "bench-node";
  const pod = await createPod(kc, ns, podSpec("bench", { "ipam.spidernet.io/ippool": '{"ipv4":["bench-cni-pool"]}' }, { nodeName: node }));
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
  await waitFor("endpoint", async () => (await endpoints.get("bench", ns))?.status?.current);
  const dir = mkdtempSync(join(tmpdir(), "bench-cni-"));
  const socket = join(dir, "agent.sock");
  const agent = await startAgent(parseAgentConfig({ NODE_NAME: node, SPIDERPOOL_AGENT_SOCKET: socket, SPIDERPOOL_AGENT_HEALTH_PORT: "0" }, []), { kubeConfig: kc, log: pino({ level: "error" }) });
  await waitFor("agent ready", () => Promise.resolve(agent.isReady()));
  const bin = await installedCniBinDir();

  // A runtime's environment: no NODE_OPTIONS or NODE_EXTRA_CA_CERTS (the latter alone costs Node ~90 ms).
  const bare = { PATH: PATH_WITHOUT_NODE };
  const cniEnv = (cmd: string, plugin: string, id: string): NodeJS.ProcessEnv => ({
    ...bare,
    CNI_COMMAND: cmd,
    CNI_CONTAINERID: id,
    CNI_NETNS: "/var/run/netns/bench",
    CNI_IFNAME: "eth0",
    CNI_PATH: `${bin}:${DEBIAN_CNI_DIR}`,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=bench;K8S_POD_UID=${pod.metadata?.uid ?? ""}`,
    plugin,
  });
  const spiderConf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", type: "macvlan", ipam: { type: "spiderpool", ipam_unix_socket_path: socket } });
  const hostLocalConf = JSON.stringify({ cniVersion: "1.0.0", name: "bench", type: "macvlan", ipam: { type: "host-local", dataDir: join(dir, "host-local"), ranges: [[{ subnet: "10.92.0.0/16" }]] } });

  const samples = { node: [] as number[], spiderpool: [] as number[], hostLocal: [] as number[] };
  for (let i = 0; i < runs + 3; i++) {
    const warm = i < 3;
    const n = await timeOnce(process.execPath, ["-e", "0"], bare);
    const s = await timeOnce(join(bin, "spiderpool"), [], cniEnv("ADD", "spiderpool", "bench-sandbox"), spiderConf);
    const h = await timeOnce(join(DEBIAN_CNI_DIR, "host-local"), [], cniEnv("ADD", "host-local", `hl-${i}`), hostLocalConf);
    if (warm) continue;
    samples.node.push(n);
    samples.spiderpool.push(s);
    samples.hostLocal.push(h);
  }
  const m = { node: median(samples.node), spiderpool: median(samples.spiderpool), hostLocal: median(samples.hostLocal) };
  console.log(`node ${process.version}; ${runs} interleaved runs each, medians:`);
  console.log(`  node -e 0                         ${m.node.toFixed(1)} ms`);
  console.log(`  host-local ADD (Go, Debian)       ${m.hostLocal.toFixed(1)} ms`);
  console.log(`  spiderpool ADD through the agent  ${m.spiderpool.toFixed(1)} ms`);
  console.log(`ratios: spiderpool / node -e 0 = ${(m.spiderpool / m.node).toFixed(2)}, spiderpool / host-local = ${(m.spiderpool / m.hostLocal).toFixed(2)}`);
  await agent.close();
  await tc.stop();
} finally {
  await stopCluster(state.dir);
}
