import { cidrContains, formatAddressInCIDR } from "../address/cidr.js";
import { type Family, familyName, formatAddress, type IPAddress, parseIP } from "../address/ip.js";
import type { IPSet } from "../address/ipset.js";
import { listSet } from "../kinds/ippool-admission.js";
import type { PoolView } from "../allocation/pool-view.js";
import type { Allocation, ReservationRef } from "../allocation/requests.js";
import type { AssignedIPs, AssignedNic } from "../annotations/assigned.js";
import { ANNO_ASSIGNED_IPS, ANNO_IPS, ANNO_ROUTES } from "../annotations/keys.js";
import { checkAnnotationSizes, checkNicCount, DEFAULT_MAX_NICS } from "../annotations/limits.js";
import { formatNetworkRef, podInterfaces, type PodInterface } from "../annotations/multus.js";
import { parsePinnedIPs, type PinnedNicIPs } from "../annotations/pinned.js";
import { parseRoutesAnnotation } from "../annotations/routes.js";
import { IpamError } from "../errors.js";
import type { ClusterConfig } from "../kinds/cluster-config.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import { networkIpam, type NetworkIpam, type PrimaryNetwork } from "../kinds/network-attachment.js";
import type { OwnerReference, Route } from "../kinds/meta.js";
import type { PodLike } from "../kinds/pod.js";
import type { SpiderSubnet } from "../kinds/subnet.js";
import type { Allocator, Cache, Clock, NetworkLookup } from "../ports.js";
import { networksToLookUp, spiderpoolNics, type KnownNetworks } from "../selection/nics.js";
import { selectCandidates } from "../selection/select.js";
import type { Candidate, FamilyCandidates, NicCandidates, NicRequest, NodeConstraint } from "../selection/types.js";
import { nodeNamedBy } from "../placement/node-of-pod.js";
import { autoPoolCandidate } from "./auto-pool-check.js";
import { freshestPool } from "./pool-writer.js";
import { stickyFirst, type StickyAddress } from "./statefulset.js";
import type { ReservationStock, StockItem } from "./stock.js";

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

/**
 * The facts of a Pod as a user sent it: `namespace` from the AdmissionRequest when the object
 * lacks it, and without any assigned-ips annotation, which only the system writes.
 */
export function podFacts(pod: PodLike, namespace: string, nodeName = nodeNamedBy(pod.spec)): PodFacts {
  const annotations = { ...pod.metadata.annotations };
  delete annotations[ANNO_ASSIGNED_IPS];
  return {
    namespace,
    ...(pod.metadata.name ? { name: pod.metadata.name } : {}),
    labels: pod.metadata.labels ?? {},
    annotations,
    ...(nodeName ? { nodeName } : {}),
    ...(pod.metadata.ownerReferences ? { ownerReferences: pod.metadata.ownerReferences } : {}),
  };
}

/** A Namespace or Node as reservation reads it: labels (and a Namespace's default-pool annotations). */
export interface LabelledObject {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface ReserveContext {
  allocator: Allocator;
  pools: Cache<SpiderIPPool>;
  subnets: Cache<SpiderSubnet>;
  namespaces: Cache<LabelledObject>;
  nodes: Cache<LabelledObject>;
  reservedIPs: (family: Family) => IPSet;
  cluster: () => ClusterConfig;
  installNamespace: string;
  clock: Pick<Clock, "now">;
  /** How long a reservation may wait for its Pod before it is collected. */
  ttlMs: number;
  /** The application's automatic pool for a NIC/family whose rule names subnets. */
  autoPool?: (pod: PodFacts, iface: string, family: Family, subnets: readonly string[], dryRun: boolean) => Promise<SpiderIPPool>;
  /** A dry run: nothing may be written (the allocator is a dry one too). */
  dryRun?: boolean;
  /** What a re-created StatefulSet Pod held before (statefulset.ts), asked for again. */
  sticky?: (pod: PodFacts) => readonly StickyAddress[];
  /** NetworkAttachmentDefinitions; absent (tests, tools): every network a Pod names counts as Spiderpool's. */
  networks?: NetworkLookup;
  /** The network of every Pod's eth0 unless it names one; "spiderpool" when absent. */
  primaryNetwork?: PrimaryNetwork;
  /** NICs one Pod may have; DEFAULT_MAX_NICS when absent. */
  maxNics?: number;
  /** Reservations made ahead (stock.ts), for admissions that may take one; absent: every admission allocates. */
  stock?: Pick<ReservationStock, "take">;
}

export interface Reservation {
  assigned: AssignedIPs;
  /** Node constraints of node-affine pools, for the Pod's scheduling (node not known yet). */
  constraints: NodeConstraint[];
  /** NIC/family pairs left to CNI time (defer mode, node-affine pools). */
  deferred: string[];
  /** Sentences for the user about NICs left alone because their network could not be judged. */
  warnings: string[];
}

interface Taken {
  nic: string;
  family: Family;
  pool: SpiderIPPool;
  view: PoolView;
  allocation: Allocation;
  constraint?: NodeConstraint;
}

/** One reservation in the making: what it took so far, what it left for later, why it failed. */
interface Attempt {
  readonly pod: PodFacts;
  readonly ctx: ReserveContext;
  readonly ref: ReservationRef;
  readonly who: string;
  readonly pinned: readonly PinnedNicIPs[];
  readonly sticky: readonly StickyAddress[];
  readonly nodeKnown: boolean;
  readonly taken: Taken[];
  readonly deferred: string[];
  readonly failures: string[];
  /** Candidate pools that had no address free (a refusal names them in its details). */
  readonly full: string[];
}

function pinnedFor(pinned: readonly PinnedNicIPs[], nic: string, family: Family): IPAddress | undefined {
  const p = pinned.find((x) => x.interface === nic);
  return family === 4 ? p?.ipv4 : p?.ipv6;
}

/** The candidate pools of every Spiderpool NIC, by the rules of api.md, for this Pod in its namespace (and on its node, when known). */
export function selectFor(pod: PodFacts, ctx: ReserveContext, nics: readonly NicRequest[], interfaces: readonly PodInterface[]): readonly NicCandidates[] {
  const cluster = ctx.cluster();
  const ns = ctx.namespaces.get(pod.namespace)?.metadata;
  const nodeLabels = pod.nodeName ? ctx.nodes.get(pod.nodeName)?.metadata?.labels : undefined;
  return selectCandidates({
    pod: { namespace: pod.namespace, ...(pod.name ? { name: pod.name } : {}), labels: pod.labels, annotations: pod.annotations },
    ...(ns ? { namespace: ns } : {}),
    ...(pod.nodeName ? { node: { name: pod.nodeName, ...(nodeLabels ? { labels: nodeLabels } : {}) } } : {}),
    nics,
    interfaces: interfaces.map((i) => i.interface),
    pools: ctx.pools.list(),
    subnets: ctx.subnets.list(),
    config: { ...cluster, installNamespace: ctx.installNamespace },
  });
}

/** The IPAM of every network the Pod's NICs are on, looked up once each; undefined without a lookup. */
async function lookUpNetworks(interfaces: readonly PodInterface[], ctx: ReserveContext): Promise<KnownNetworks | undefined> {
  const lookup = ctx.networks;
  if (!lookup) return undefined;
  const refs = networksToLookUp(interfaces, ctx.primaryNetwork ?? "spiderpool");
  const found = await Promise.all(refs.map(async (r) => [formatNetworkRef(r), await lookup(r)] as const));
  return new Map(found.flatMap(([key, nad]): [string, NetworkIpam][] => (nad ? [[key, networkIpam(nad)]] : [])));
}

/**
 * The Pod's Spiderpool NICs, after the limits: annotation sizes first (before parsing), then
 * interface names (while parsing) and the number of NICs.
 */
export async function nicsOf(pod: PodFacts, ctx: ReserveContext, forced?: readonly string[]): Promise<{ interfaces: PodInterface[]; nics: NicRequest[]; warnings: string[] }> {
  checkAnnotationSizes(pod.annotations);
  const interfaces = podInterfaces(pod.annotations, pod.namespace);
  checkNicCount(interfaces.length, ctx.maxNics ?? DEFAULT_MAX_NICS);
  const cluster = ctx.cluster();
  const { nics, undecided } = spiderpoolNics({
    interfaces,
    primary: ctx.primaryNetwork ?? "spiderpool",
    ...(cluster.clusterDefaultNetwork ? { clusterDefaultNetwork: cluster.clusterDefaultNetwork } : {}),
    ...(ctx.networks ? { networks: await lookUpNetworks(interfaces, ctx) } : {}),
    ...(forced ? { forced } : {}),
  });
  return { interfaces, nics, warnings: undecided };
}

function newAttempt(pod: PodFacts, reservationId: string, ctx: ReserveContext): Attempt {
  const owner = pod.name ? `${pod.namespace}/${pod.name}` : undefined;
  return {
    pod,
    ctx,
    ref: { id: reservationId, ...(owner ? { owner } : {}), expiresAt: ctx.clock.now() + ctx.ttlMs },
    who: `pod ${pod.namespace}/${pod.name ?? "(new)"}`,
    pinned: pod.annotations[ANNO_IPS] !== undefined ? parsePinnedIPs(pod.annotations[ANNO_IPS]) : [],
    sticky: ctx.sticky?.(pod) ?? [],
    nodeKnown: pod.nodeName !== undefined,
    taken: [],
    deferred: [],
    failures: [],
    full: [],
  };
}

/**
 * Reserves the Pod's addresses for every NIC and family, the one code path of allocation
 * (admission and late allocation at CNI time both come here). Candidate pools are tried in
 * order; a full one is skipped for the next. When any NIC/family cannot be served, every
 * address this call took is released again before the refusal is thrown, so a refused Pod
 * holds nothing.
 */
export async function reserveAddresses(pod: PodFacts, reservationId: string, ctx: ReserveContext, onlyInterfaces?: readonly string[]): Promise<Reservation> {
  const { interfaces, nics, warnings } = await nicsOf(pod, ctx, onlyInterfaces);
  // No NIC of this Pod is Spiderpool's: nothing to read, nothing to reserve.
  if (nics.length === 0) return { assigned: { reservation: reservationId, ips: [] }, constraints: [], deferred: [], warnings };
  const selection = selectFor(pod, ctx, nics, interfaces);
  const a = newAttempt(pod, reservationId, ctx);
  try {
    if (!takeFromStock(a, selection, onlyInterfaces)) await reserveEach(a, selection, onlyInterfaces);
    if (a.failures.length > 0) {
      throw new IpamError("POOL_EXHAUSTED", `${a.who} cannot get an address: ${a.failures.join("; also ")}; add addresses to those pools or name another pool`, { pools: [...new Set(a.full)] });
    }
    const routes = pod.annotations[ANNO_ROUTES] !== undefined ? parseRoutesAnnotation(pod.annotations[ANNO_ROUTES]) : [];
    const assigned = assignedIPs(reservationId, selection, a.taken, routes, a.who);
    const constraints = a.nodeKnown ? [] : a.taken.flatMap((t) => (t.constraint ? [t.constraint] : []));
    return { assigned, constraints, deferred: a.deferred, warnings };
  } catch (err) {
    await releaseTaken(ctx.allocator, a.taken);
    throw err;
  }
}

/** Allocates for every NIC/family in turn (or only the named interfaces). */
async function reserveEach(a: Attempt, selection: readonly NicCandidates[], onlyInterfaces: readonly string[] | undefined): Promise<void> {
  for (const nic of selection) {
    if (onlyInterfaces && !onlyInterfaces.includes(nic.interface)) continue;
    for (const fc of [nic.ipv4, nic.ipv6]) if (fc) await reserveFamily(a, nic, fc);
  }
}

/**
 * What the stock can serve: a Pod admitted without a name (no owner to match a repeat by),
 * without pinned or earlier addresses, every NIC/family of which draws from its first
 * candidate, a plain pool for any node. Undefined when any NIC/family needs more.
 */
function stockPlan(a: Attempt, selection: readonly NicCandidates[]): StockItem[] | undefined {
  if (a.ctx.dryRun || a.ref.owner !== undefined || a.pinned.length > 0 || a.sticky.length > 0) return undefined;
  const plan: StockItem[] = [];
  for (const nic of selection) {
    for (const fc of [nic.ipv4, nic.ipv6]) {
      if (!fc) continue;
      const first = fc.kind === "subnet" ? undefined : fc.candidates[0];
      if (!first || first.node !== undefined) return undefined;
      plan.push({ nic: nic.interface, family: fc.family, pool: first.name });
    }
  }
  return plan;
}

/** Takes the whole reservation from the stock when it can serve the Pod; false: allocate as usual. */
function takeFromStock(a: Attempt, selection: readonly NicCandidates[], onlyInterfaces: readonly string[] | undefined): boolean {
  const stock = a.ctx.stock;
  const plan = stock && !onlyInterfaces ? stockPlan(a, selection) : undefined;
  const stocked = plan && stock?.take(plan, a.ref.id);
  if (!stocked) return false;
  for (const s of stocked.addresses) {
    // As the stock found it (the writer's copy may be ahead of the cache).
    const pool = freshestPool(a.ctx.allocator, a.ctx.pools, s.pool);
    if (!pool) throw new IpamError("POOL_NOT_FOUND", `pool ${s.pool} does not exist`, { pool: s.pool });
    a.taken.push({ nic: s.nic, family: s.family, pool, view: s.view, allocation: s.allocation });
  }
  return true;
}

/** The pools to try for one NIC/family: an automatic pool for the subnet rules, minus node-affine ones in defer mode. */
async function candidatesOf(a: Attempt, nic: NicCandidates, fc: FamilyCandidates): Promise<{ candidates: readonly Candidate[]; fresh?: SpiderIPPool; deferred?: boolean }> {
  const { ctx } = a;
  if (fc.kind === "subnet") {
    if (!ctx.autoPool) throw new IpamError("SUBNET_NOT_FOUND", `${a.who} asks for an automatic pool for ${nic.interface}, which this controller does not make`);
    // The pool was just created or grown: the caches may not have it yet.
    const auto = await ctx.autoPool(a.pod, nic.interface, fc.family, fc.candidates.map((c) => c.name), ctx.dryRun === true);
    ctx.allocator.observe?.(auto);
    return { candidates: [autoPoolCandidate(auto, a.pod, ctx, nic, fc.family)], fresh: auto };
  }
  if (!a.nodeKnown && ctx.cluster().nodeAffinePools === "defer") {
    const anywhere = fc.candidates.filter((c) => c.node === undefined);
    return { candidates: anywhere, deferred: anywhere.length === 0 };
  }
  return { candidates: fc.candidates };
}

async function reserveFamily(a: Attempt, nic: NicCandidates, fc: FamilyCandidates): Promise<void> {
  const { ctx } = a;
  const family = fc.family;
  const found = await candidatesOf(a, nic, fc);
  const { fresh } = found;
  if (found.deferred) {
    a.deferred.push(`${nic.interface}/${familyName(family)}`);
    return;
  }
  const want = pinnedFor(a.pinned, nic.interface, family);
  const { candidates, keep } = orderFor(a, found.candidates, nic.interface, family, want);
  const reasons: string[] = [];
  for (const c of candidates) {
    const pool = fresh?.metadata.name === c.name ? fresh : ctx.pools.get(c.name);
    if (!pool) continue;
    const answer = await ctx.allocator.submit(c.name, { kind: "allocate", interface: nic.interface, reservation: a.ref, ...addressWanted(c, want, keep) });
    if (answer.ok && answer.kind === "allocate") {
      a.taken.push({ nic: nic.interface, family, pool, view: answer.view, allocation: answer.allocation, ...(c.node ? { constraint: c.node } : {}) });
      return;
    }
    if (answer.ok) continue;
    if (answer.error.code === "POOL_EXHAUSTED") a.full.push(c.name);
    if (!want) reasons.push(answer.error.message);
    // A pinned address outside this pool may be in the next; one that this pool refuses otherwise (taken, excluded) is final.
    else if (answer.error.code !== "IP_NOT_IN_POOL") throw answer.error;
  }
  if (want) throw pinnedNowhere(a, nic.interface, want, candidates, fc);
  a.failures.push(`no ${familyName(family)} address for ${nic.interface}: ${reasons.join("; ")}`);
}

/** The candidates in the order to try them: a pinned address wins; else a re-created StatefulSet Pod's earlier pool first. */
function orderFor(a: Attempt, candidates: readonly Candidate[], nic: string, family: Family, want: IPAddress | undefined): ReturnType<typeof stickyFirst> {
  return want ? { candidates } : stickyFirst(candidates, a.sticky, nic, family);
}

/** What an allocation from candidate `c` asks for: the pinned address, the one held before in that pool, or any. */
function addressWanted(c: Candidate, want: IPAddress | undefined, keep: StickyAddress | undefined): { address?: IPAddress; keep?: { address: bigint; token: number } } {
  if (want) return { address: want };
  return keep?.pool === c.name ? { keep: { address: keep.address, token: keep.token } } : {};
}

/** The refusal of a pinned address that no candidate holds, naming the pools that hold it but may not serve this Pod. */
function pinnedNowhere(a: Attempt, iface: string, want: IPAddress, candidates: readonly Candidate[], fc: FamilyCandidates): IpamError {
  const holds = (name: string): boolean => {
    const p = a.ctx.pools.get(name);
    return p !== undefined && listSet(p.spec.ips, want.family).contains(want.value);
  };
  const filtered = fc.filtered.filter((f) => holds(f.name));
  const because = filtered.length > 0 ? `; it is in ${filtered.map((f) => `pool ${f.name}, which ${f.detail}`).join(", ")}` : "";
  return new IpamError(
    "IP_NOT_IN_POOL",
    `${a.who} pins ${formatAddress(want)} for ${iface}, but no pool it may use holds it (candidates: ${candidates.map((c) => c.name).join(", ") || "none"})${because}`,
    { ip: formatAddress(want), interface: iface },
  );
}

/**
 * Gives back what a refused admission took, exactly (by token): never the whole reservation,
 * which a concurrent call with the same id (a late allocation of another NIC) may share.
 */
async function releaseTaken(allocator: Allocator, taken: readonly Taken[]): Promise<void> {
  const mine = taken.filter((t) => !t.allocation.reused);
  await Promise.all(mine.map((t) => allocator.submit(t.pool.metadata.name ?? "", { kind: "release", address: t.allocation.address, token: t.allocation.token })));
}

const inSubnetOf = (t: Taken, gw: IPAddress): boolean => gw.family === t.family && cidrContains(t.view.subnet, gw.value);

/** One NIC's entry of the annotation: its addresses, pools, tokens, gateways, and the routes whose next hop it can reach. */
function assignedNic(nic: NicCandidates, mine: readonly Taken[], routes: readonly Route[]): AssignedNic {
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
  const extra = routes.filter((r) => mine.some((t) => inSubnetOf(t, parseIP(r.gw))));
  const all = [...poolRoutes, ...extra.filter((r) => !poolRoutes.some((x) => x.dst === r.dst))];
  if (all.length > 0) out.routes = all;
  if (nic.cleanGateway) out.cleanGateway = true;
  return out;
}

function assignedIPs(reservationId: string, selection: readonly NicCandidates[], taken: readonly Taken[], routes: readonly Route[], who: string): AssignedIPs {
  const nics: AssignedNic[] = [];
  for (const nic of selection) {
    const mine = taken.filter((t) => t.nic === nic.interface);
    if (mine.length > 0) nics.push(assignedNic(nic, mine, routes));
  }
  for (const r of routes) {
    if (!taken.some((t) => inSubnetOf(t, parseIP(r.gw)))) {
      throw new IpamError("ANNOTATION_INVALID", `annotation ${ANNO_ROUTES} routes ${r.dst} via ${r.gw}, but no NIC of ${who} has a subnet holding ${r.gw}; use a next hop inside one of the pod's subnets`, { route: r.dst });
    }
  }
  // A repeated admission for the same named Pod gets back its earlier reservation.
  const ids = new Set(taken.map((t) => t.allocation.reservation ?? reservationId));
  return { reservation: ids.size === 1 ? ([...ids][0] ?? reservationId) : reservationId, ips: nics };
}

