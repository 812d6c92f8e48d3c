import { cidrContains, formatAddressInCIDR } from "../../ipam/address/cidr.js";
import { type Family, familyName, formatAddress, type IPAddress, parseIP } from "../../ipam/address/ip.js";
import type { IPSet } from "../../ipam/address/ipset.js";
import { buildPoolView, type PoolView } from "../../ipam/allocation/pool-view.js";
import type { Allocation } from "../../ipam/allocation/requests.js";
import type { AssignedIPs, AssignedNic } from "../../ipam/annotations/assigned.js";
import { ANNO_IPS, ANNO_ROUTES } from "../../ipam/annotations/keys.js";
import { podInterfaces } from "../../ipam/annotations/multus.js";
import { parsePinnedIPs, type PinnedNicIPs } from "../../ipam/annotations/pinned.js";
import { parseRoutesAnnotation } from "../../ipam/annotations/routes.js";
import { IpamError } from "../../ipam/errors.js";
import type { ClusterConfig } from "../../ipam/kinds/cluster-config.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { OwnerReference, Route } from "../../ipam/kinds/meta.js";
import type { SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { selectCandidates } from "../../ipam/selection/select.js";
import type { FamilyCandidates, NicCandidates, NodeConstraint } from "../../ipam/selection/types.js";
import type { Allocator } from "../../k8s/pool-writer.js";

/** What allocation needs to know about the Pod. At admission the name may be unknown. */
export interface PodFacts {
  namespace: string;
  name?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName?: string;
  /** The Pod's owners (automatic pools belong to its top controller). */
  ownerReferences?: readonly OwnerReference[];
}

export interface ReserveContext {
  allocator: Allocator;
  pools: () => readonly SpiderIPPool[];
  pool: (name: string) => SpiderIPPool | undefined;
  subnets: () => readonly SpiderSubnet[];
  reservedIPs: (family: Family) => IPSet;
  namespace: (name: string) => { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined;
  node: (name: string) => { name: string; labels?: Record<string, string> } | undefined;
  cluster: () => ClusterConfig;
  installNamespace: string;
  now: () => number;
  /** How long a reservation may wait for its Pod before it is collected. */
  ttlMs: number;
  /** The application's automatic pool for a NIC/family whose rule names subnets. */
  autoPool?: (pod: PodFacts, iface: string, family: Family, subnets: readonly string[], dryRun: boolean) => Promise<SpiderIPPool>;
  /** A dry run: nothing may be written (the allocator is a dry one too). */
  dryRun?: boolean;
}

export interface Reservation {
  assigned: AssignedIPs;
  /** Node constraints of node-affine pools, for the Pod's scheduling (node not known yet). */
  constraints: NodeConstraint[];
  /** NIC/family pairs left to CNI time (defer mode, node-affine pools). */
  deferred: string[];
}

interface Taken {
  nic: string;
  family: Family;
  pool: SpiderIPPool;
  view: PoolView;
  allocation: Allocation;
  constraint?: NodeConstraint;
}

const FAMILIES: Family[] = [4, 6];

function pinnedFor(pinned: readonly PinnedNicIPs[], nic: string, family: Family): IPAddress | undefined {
  const p = pinned.find((x) => x.interface === nic);
  return family === 4 ? p?.ipv4 : p?.ipv6;
}

/**
 * Reserves the Pod's addresses for every NIC and family, the one code path of allocation
 * (admission and late allocation at CNI time both come here). Candidate pools are tried in
 * order; a full one is skipped for the next. When any NIC/family cannot be served, every
 * address this call took is released again before the refusal is thrown, so a refused Pod
 * holds nothing.
 */
export async function reserveAddresses(pod: PodFacts, reservationId: string, ctx: ReserveContext, onlyInterfaces?: readonly string[]): Promise<Reservation> {
  const cluster = ctx.cluster();
  const ns = ctx.namespace(pod.namespace);
  const node = pod.nodeName ? (ctx.node(pod.nodeName) ?? { name: pod.nodeName }) : undefined;
  const nics = podInterfaces(pod.annotations, pod.namespace, cluster.clusterDefaultNetwork).map((p) => ({ interface: p.interface, ...(p.network ? { network: p.network } : {}) }));
  const selection = selectCandidates({
    pod: { namespace: pod.namespace, ...(pod.name ? { name: pod.name } : {}), labels: pod.labels, annotations: pod.annotations },
    ...(ns ? { namespace: ns } : {}),
    ...(node ? { node } : {}),
    nics,
    pools: ctx.pools(),
    subnets: ctx.subnets(),
    config: { ...cluster, installNamespace: ctx.installNamespace },
  });
  const pinned = pod.annotations[ANNO_IPS] !== undefined ? parsePinnedIPs(pod.annotations[ANNO_IPS]) : [];
  const owner = pod.name ? `${pod.namespace}/${pod.name}` : undefined;
  const reservation = { id: reservationId, ...(owner ? { owner } : {}), expiresAt: ctx.now() + ctx.ttlMs };
  const who = `pod ${pod.namespace}/${pod.name ?? "(new)"}`;

  const taken: Taken[] = [];
  const deferred: string[] = [];
  const failures: string[] = [];
  const tryFamily = async (nic: NicCandidates, fc: FamilyCandidates): Promise<void> => {
    const family = fc.family;
    let candidates = fc.candidates;
    const fresh = new Map<string, SpiderIPPool>();
    if (fc.kind === "subnet") {
      if (!ctx.autoPool) throw new IpamError("SUBNET_NOT_FOUND", `${who} asks for an automatic pool for ${nic.interface}, which this controller does not make`);
      // The pool was just created or grown: its caches may not have it yet.
      const auto = await ctx.autoPool(pod, nic.interface, family, fc.candidates.map((c) => c.name), ctx.dryRun === true);
      ctx.allocator.observe?.(auto);
      fresh.set(auto.metadata.name ?? "", auto);
      candidates = [{ name: auto.metadata.name ?? "" }];
    }
    if (!node && cluster.nodeAffinePools === "defer") {
      candidates = candidates.filter((c) => c.node === undefined);
      if (candidates.length === 0) {
        deferred.push(`${nic.interface}/${familyName(family)}`);
        return;
      }
    }
    const want = pinnedFor(pinned, nic.interface, family);
    const reasons: string[] = [];
    for (const c of candidates) {
      const pool = fresh.get(c.name) ?? ctx.pool(c.name);
      if (!pool) continue;
      const view = buildPoolView(pool, ctx.reservedIPs(family));
      if (want && !view.ips.contains(want.value)) continue;
      const answer = await ctx.allocator.submit(c.name, { kind: "allocate", interface: nic.interface, reservation, ...(want ? { address: want } : {}) });
      if (answer.ok && answer.kind === "allocate") {
        taken.push({ nic: nic.interface, family, pool, view, allocation: answer.allocation, ...(c.node ? { constraint: c.node } : {}) });
        return;
      }
      if (!answer.ok) {
        // A pinned address that is taken is final: another pool cannot give that address.
        if (want) throw answer.error;
        reasons.push(answer.error.message);
      }
    }
    if (want) {
      const filtered = fc.filtered.filter((f) => {
        const p = ctx.pool(f.name);
        return p && buildPoolView(p).ips.contains(want.value);
      });
      const because = filtered.length > 0 ? `; it is in ${filtered.map((f) => `pool ${f.name}, which ${f.detail}`).join(", ")}` : "";
      throw new IpamError("IP_NOT_IN_POOL", `${who} pins ${formatAddress(want)} for ${nic.interface}, but no pool it may use holds it (candidates: ${candidates.map((c) => c.name).join(", ") || "none"})${because}`, { ip: formatAddress(want), interface: nic.interface });
    }
    failures.push(`no ${familyName(family)} address for ${nic.interface}: ${reasons.join("; ")}`);
  };

  try {
    for (const nic of selection) {
      if (onlyInterfaces && !onlyInterfaces.includes(nic.interface)) continue;
      for (const family of FAMILIES) {
        const fc = family === 4 ? nic.ipv4 : nic.ipv6;
        if (fc) await tryFamily(nic, fc);
      }
    }
    if (failures.length > 0) {
      throw new IpamError("POOL_EXHAUSTED", `${who} cannot get an address: ${failures.join("; also ")}; add addresses to those pools or name another pool`, {});
    }
    const routes = pod.annotations[ANNO_ROUTES] !== undefined ? parseRoutesAnnotation(pod.annotations[ANNO_ROUTES]) : [];
    const assigned = assignedIPs(reservationId, selection, taken, routes, who);
    const constraints = node ? [] : taken.flatMap((t) => (t.constraint ? [t.constraint] : []));
    return { assigned, constraints, deferred };
  } catch (err) {
    await releaseTaken(ctx.allocator, taken, reservationId);
    throw err;
  }
}

/** Gives back what a refused admission took (its own reservation only). */
async function releaseTaken(allocator: Allocator, taken: readonly Taken[], reservationId: string): Promise<void> {
  const pools = new Set(taken.filter((t) => !t.allocation.reused).map((t) => t.pool.metadata.name ?? ""));
  await Promise.all([...pools].map((p) => allocator.submit(p, { kind: "release-reservation", reservation: reservationId })));
}

function assignedIPs(reservationId: string, selection: readonly NicCandidates[], taken: readonly Taken[], routes: readonly Route[], who: string): AssignedIPs {
  const nics: AssignedNic[] = [];
  const ids = new Set(taken.map((t) => t.allocation.reservation ?? reservationId));
  for (const nic of selection) {
    const mine = taken.filter((t) => t.nic === nic.interface);
    if (mine.length === 0) continue;
    const out: AssignedNic = { interface: nic.interface };
    const poolRoutes: Route[] = [];
    for (const t of mine) {
      const p = t.family === 4 ? "ipv4" : "ipv6";
      out[p] = formatAddressInCIDR(t.allocation.address, t.view.subnet);
      out[`${p}Pool`] = t.pool.metadata.name ?? "";
      out[`${p}Token`] = t.allocation.token;
      if (t.view.gateway !== undefined) out[`${p}Gateway`] = formatAddress({ family: t.family, value: t.view.gateway });
      if (t.pool.spec.vlan !== undefined) out.vlan = t.pool.spec.vlan;
      poolRoutes.push(...(t.pool.spec.routes ?? []));
    }
    const extra = routes.filter((r) => mine.some((t) => cidrContains(t.view.subnet, parseIP(r.gw).value) && parseIP(r.gw).family === t.family));
    const all = [...poolRoutes, ...extra.filter((r) => !poolRoutes.some((x) => x.dst === r.dst))];
    if (all.length > 0) out.routes = all;
    if (nic.cleanGateway) out.cleanGateway = true;
    nics.push(out);
  }
  for (const r of routes) {
    const served = taken.some((t) => parseIP(r.gw).family === t.family && cidrContains(t.view.subnet, parseIP(r.gw).value));
    if (!served) throw new IpamError("ANNOTATION_INVALID", `annotation ${ANNO_ROUTES} routes ${r.dst} via ${r.gw}, but no NIC of ${who} has a subnet holding ${r.gw}; use a next hop inside one of the pod's subnets`, { route: r.dst });
  }
  // A repeated admission for the same named Pod gets back its earlier reservation.
  return { reservation: ids.size === 1 ? [...ids][0] ?? reservationId : reservationId, ips: nics };
}
