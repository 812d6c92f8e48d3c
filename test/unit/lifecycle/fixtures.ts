import { formatIP, parseIP } from "../../../ipam/address/ip.js";
import { IPSet } from "../../../ipam/address/ipset.js";
import { decodeAllocations } from "../../../ipam/allocation/codec.js";
import { holders } from "../../../ipam/allocation/state.js";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import type { IPPoolSpec, SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { DEFAULT_CLUSTER_CONFIG } from "../../../ipam/kinds/cluster-config.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { PoolWriter, type PoolWriterOptions } from "../../../ipam/lifecycle/pool-writer.js";
import type { ReserveContext } from "../../../ipam/lifecycle/reserve.js";
import type { Allocator } from "../../../ipam/ports.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore, listCache } from "../../fakes/store.js";

export const pool = (name: string, spec: Partial<IPPoolSpec> = {}): SpiderIPPool => ({
  apiVersion: "spiderpool.spidernet.io/v2beta1",
  kind: "SpiderIPPool",
  metadata: { name },
  spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.12"], ...spec },
});

export const ip = (text: string): bigint => parseIP(text).value;

/** The addresses a stored pool holds, as text. */
export function heldIn(store: FakeStore<SpiderIPPool>, name: string): string[] {
  const p = store.peek(name);
  if (!p) throw new Error(`no pool ${name}`);
  const subnet = parseCIDR(p.spec.subnet);
  return [...holders(decodeAllocations(p.status?.allocations, subnet))].map((h) => formatIP(subnet.family, h.address));
}

/** A pool writer over a fake store whose cache is the store itself, plus what a test inspects. */
export function writerOver(store: FakeStore<SpiderIPPool>, over: Partial<PoolWriterOptions> = {}) {
  const clock = new FakeClock();
  const log = new RecordingLog();
  const conflicts: string[] = [];
  const batches: number[] = [];
  const writer = new PoolWriter({
    store,
    cached: (n) => store.peek(n),
    reserved: (family) => IPSet.empty(family),
    clock,
    coolDownMs: 0,
    log,
    onConflict: (p) => conflicts.push(p),
    onWrite: (_p, n) => batches.push(n),
    ...over,
  });
  return { writer, clock, log, conflicts, batches };
}

export const reservation = (id: string, clock: FakeClock, owner?: string) => ({ id, ...(owner ? { owner } : {}), expiresAt: clock.now() + 60_000 });

/** What reservation reads, over a fake pool store, with no subnets, namespaces or nodes. */
export function reserveContext(store: FakeStore<SpiderIPPool>, allocator: Allocator, clock: FakeClock): ReserveContext {
  return {
    allocator,
    pools: store.cache(),
    subnets: listCache<SpiderSubnet>(),
    namespaces: listCache(),
    nodes: listCache(),
    reservedIPs: (family) => IPSet.empty(family),
    cluster: () => DEFAULT_CLUSTER_CONFIG,
    installNamespace: "kube-system",
    clock,
    ttlMs: 60_000,
  };
}
