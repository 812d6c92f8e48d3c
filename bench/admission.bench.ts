// Pod admission throughput and latency, with and without the Spiderpool webhook, and under a
// webhook that answers at once and writes nothing (local-cluster/floor-webhook.ts: the floor
// of any webhook), measured side by side in one run on a local control plane (etcd +
// kube-apiserver).
//   npx tsx bench/admission.bench.ts [pods-per-phase=1000] [creators=50]
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { API_VERSION } from "../ipam/kinds/meta.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { CustomResources } from "../k8s/resources.js";
import { CONTROL_PLANE, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { startLocalController, type LocalController } from "../local-cluster/controller.js";
import { applyCrds, createNamespace } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { spawnFloorWebhook } from "../local-cluster/floor-webhook.js";
import { createPool, podSpec } from "../local-cluster/pods.js";

const total = Number(process.argv[2] ?? 1000);
const creators = Number(process.argv[3] ?? 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function phase(name: string, create: () => Promise<unknown>): Promise<{ rate: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: creators }, async () => {
      while (next++ < total) {
        const t = performance.now();
        await create();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const r = { rate: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  console.log(`${name.padEnd(24)} ${r.rate.toFixed(0).padStart(5)} pods/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms`);
  return r;
}

/**
 * Pods of a Deployment's ReplicaSet whose template names a SpiderSubnet: the Deployment's
 * admission sizes its pool for every Pod of the phase, so each Pod's admission only draws
 * from it (no controller manager runs here: the Pods are made as the ReplicaSet would).
 */
async function autoPoolPhase(kc: KubeConfig, tc: LocalController, ns: string): Promise<{ rate: number; p50: number; p99: number }> {
  const annotations = { "ipam.spidernet.io/subnet": '{"ipv4":["bench-subnet"]}', "ipam.spidernet.io/ippool-ip-number": "+10" };
  await new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL).create({ apiVersion: API_VERSION, kind: "SpiderSubnet", metadata: { name: "bench-subnet", labels: tc.labels }, spec: { subnet: "10.91.0.0/16", ips: ["10.91.0.1-10.91.255.254"] } });
  const apps = kc.makeApiClient(AppsV1Api);
  const labels = { app: "bench", "pod-template-hash": "b1" };
  const d = await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: "bench" }, spec: { replicas: total + 1, selector: { matchLabels: { app: "bench" } }, template: { metadata: { labels: { app: "bench" }, annotations }, spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] } } } } });
  const rs = await apps.createNamespacedReplicaSet({
    namespace: ns,
    body: { metadata: { name: "bench-b1", labels, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "bench", uid: d.metadata?.uid ?? "", controller: true }] }, spec: { replicas: total + 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] } } } },
  });
  const owned = (): V1Pod => ({ ...podSpec({ generateName: "bench-b1-" }, annotations), metadata: { generateName: "bench-b1-", labels, annotations, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "bench-b1", uid: rs.metadata?.uid ?? "", controller: true }] } });
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({ namespace: ns, body: owned() });
  return phase("with an automatic pool", () => core.createNamespacedPod({ namespace: ns, body: owned() }));
}

await ensureBinariesOrExit(CONTROL_PLANE);
const state = await startCluster("bench", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  // No scheduler here: nothing places these Pods, so binding does not wait for a node (as
  // before that wait existed; each Pod's endpoint is written once either way).
  const tc = await startLocalController(kc, { prefix: "bench", settings: { SPIDERPOOL_BIND_WAIT_FOR_NODE_MS: "0" } });
  await createPool(kc, tc.labels, "bench-pool", { subnet: "10.90.0.0/16", ips: ["10.90.0.1-10.90.255.254"] });
  const core = kc.makeApiClient(CoreV1Api);
  const plain = await createNamespace(kc, "bench-plain");
  const spider = await tc.createPodNamespace("bench-spider");
  const floorLabels = { "spiderpool.local/floor": "bench" };
  const floor = await spawnFloorWebhook(state.kubeconfig, "bench-floor", floorLabels);
  const floored = await createNamespace(kc, "bench-floor", floorLabels);
  console.log(`node ${process.version}; ${total} pods per phase, ${creators} concurrent creators`);
  // Warm both paths (connections, caches) before measuring.
  for (const ns of [plain, floored, spider]) await core.createNamespacedPod({ namespace: ns, body: podSpec({ generateName: "warm-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["bench-pool"]}' }) });
  const without = await phase("without the webhook", () => core.createNamespacedPod({ namespace: plain, body: podSpec({ generateName: "b-" }) }));
  const atFloor = await phase("under the floor webhook", () => core.createNamespacedPod({ namespace: floored, body: podSpec({ generateName: "b-" }) }));
  const withHook = await phase("with the webhook", () =>
    core.createNamespacedPod({ namespace: spider, body: podSpec({ generateName: "b-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["bench-pool"]}' }) }),
  );
  const ratio = (what: string, a: typeof without, b: typeof without): void =>
    console.log(`ratio (${what}): throughput ${(a.rate / b.rate).toFixed(2)}, p50 ${(a.p50 / b.p50).toFixed(2)}x, p99 ${(a.p99 / b.p99).toFixed(2)}x`);
  ratio("with / without", withHook, without);
  ratio("floor / without", atFloor, without);
  ratio("with / floor", withHook, atFloor);
  const { answered } = await floor.stop();
  console.log(`the floor webhook answered ${answered["/webhooks/mutate-pod"] ?? 0} Pod admissions`);
  const auto = await autoPoolPhase(kc, tc, spider);
  console.log(`ratio (automatic pool / named pool): throughput ${(auto.rate / withHook.rate).toFixed(2)}, p50 ${(auto.p50 / withHook.p50).toFixed(2)}x, p99 ${(auto.p99 / withHook.p99).toFixed(2)}x`);
  await tc.stop();
} finally {
  await stopCluster(state.dir);
}
