// Large pools on the real apiserver: a 65,536-address IPv4 pool filled with 10,000
// reservations through the pool writer's batch path, and an IPv6 /64 pool; the pool's size
// on the wire, the latency of one status write and of one Pod admission at that size, each
// beside a 256-address pool in the same run, and the controller's peak RSS.
//   npx tsx bench/big-pool.bench.ts [reservations=10000] [samples=30]
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { CustomResources } from "../k8s/resources.js";
import { benchWriter, fillReservations } from "../local-cluster/big-pool.js";
import { CONTROL_PLANE, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { spawnController } from "../local-cluster/controller-process.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { applyCrds, createNamespace, waitFor } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { createPool, podSpec } from "../local-cluster/pods.js";
import { percentile } from "./cni-timing.js";

const reservations = Number(process.argv[2] ?? 10_000);
const samples = Number(process.argv[3] ?? 30);
const log = pino({ level: "warn" });
const POOLS = { big: "big-v4", small: "small-v4", v6: "big-v6" } as const;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** `samples` rounds, one call per pool in turn (so load from elsewhere hits each alike); milliseconds per pool. */
async function alternate(pools: readonly string[], call: (pool: string, i: number) => Promise<unknown>): Promise<Map<string, number[]>> {
  const out = new Map(pools.map((p) => [p, [] as number[]]));
  for (let i = 0; i < samples; i++) for (const p of pools) out.get(p)?.push(await timed(() => call(p, i)));
  return out;
}

const ms = (xs: number[] | undefined, p: number): string => `${percentile(xs ?? [], p).toFixed(1)} ms`;

async function sizes(kc: KubeConfig): Promise<Record<string, { object: number; allocations: number }>> {
  const out: Record<string, { object: number; allocations: number }> = {};
  for (const name of Object.values(POOLS)) {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get(name)) as SpiderIPPool;
    out[name] = { object: JSON.stringify(p).length, allocations: (p.status?.allocations ?? "").length };
  }
  return out;
}

await ensureBinariesOrExit(CONTROL_PLANE);
const state = await startCluster("bench-big-pool", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  // Dual-stack: every Pod takes an IPv4 address (from the big or the small pool) and one from the /64.
  const c = await spawnController(state.kubeconfig, "bigpool", {}, "enableIPv4: true\nenableIPv6: true\n");
  await createPool(kc, c.labels, POOLS.big, { subnet: "10.186.0.0/16", ips: ["10.186.0.0-10.186.255.255"] });
  await createPool(kc, c.labels, POOLS.small, { subnet: "10.187.0.0/24", ips: ["10.187.0.0-10.187.0.255"] });
  await createPool(kc, c.labels, POOLS.v6, { subnet: "fd00:186::/64", ips: ["fd00:186::-fd00:186::ffff:ffff:ffff:ffff"] });
  const pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  await waitFor("the pools' counts", async () => (await pools.get(POOLS.big))?.status?.totalIPCount === 65_536);
  const rssBefore = c.peakRss();
  const expiresAt = Date.now() + 3_600_000;
  const filled = await fillReservations(kc, log, { pool: POOLS.big, count: reservations, prefix: "fill", expiresAt });
  console.log(`node ${process.version}; ${reservations} reservations in ${filled.writes} status writes, ${(filled.ms / 1000).toFixed(2)} s`);
  // One write each: a single allocation through a writer of its own, so every sample is one compare-and-swap.
  const writer = benchWriter(kc, log);
  const writes = await alternate(Object.values(POOLS), (pool, i) => writer.submit(pool, { kind: "allocate", interface: "eth0", reservation: { id: `w-${i}`, owner: `bench/w-${i}`, expiresAt } }));
  const ns = await createNamespace(kc, "bigpool", c.labels);
  const core = kc.makeApiClient(CoreV1Api);
  const admissions = await alternate([POOLS.big, POOLS.small], (pool, i) =>
    core.createNamespacedPod({ namespace: ns, body: podSpec(`${pool}-${i}`, { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [pool], ipv6: [POOLS.v6] }) }) }),
  );
  const size = await sizes(kc);
  console.log("\n| pool | object bytes | status.allocations bytes | one status write p50 / p99 | one dual-stack Pod admission p50 / p99 |");
  console.log("| --- | --- | --- | --- | --- |");
  const label: Record<string, string> = { [POOLS.big]: `IPv4, 65,536 addresses, ${reservations.toLocaleString("en")} pending reservations`, [POOLS.small]: "IPv4, 256 addresses (yardstick)", [POOLS.v6]: "IPv6 /64 (every admitted Pod's IPv6 address)" };
  for (const p of Object.values(POOLS)) {
    console.log(`| ${label[p]} | ${size[p]?.object} | ${size[p]?.allocations} | ${ms(writes.get(p), 50)} / ${ms(writes.get(p), 99)} | ${admissions.has(p) ? `${ms(admissions.get(p), 50)} / ${ms(admissions.get(p), 99)}` : "—"} |`);
  }
  const ratio = (m: Map<string, number[]>): string => (percentile(m.get(POOLS.big) ?? [], 50) / percentile(m.get(POOLS.small) ?? [], 50)).toFixed(2);
  console.log(`\nratio big / small (p50): status write ${ratio(writes)}×, admission ${ratio(admissions)}×`);
  console.log(`controller peak RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MiB before the fill, ${(c.peakRss() / 2 ** 20).toFixed(0)} MiB at the end`);
  await c.stop();
} finally {
  await stopCluster(state.dir);
}
