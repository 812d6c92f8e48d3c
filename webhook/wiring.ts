import type { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { WebhookCertificates } from "../certs/manager.js";
import { heldAddresses } from "../ipam/allocation/usage.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PoolContext } from "../ipam/kinds/ippool-admission.js";
import { RecentMap } from "../ipam/recent-map.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { NAD_GROUP, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../ipam/kinds/network-attachment.js";
import { Binder } from "../ipam/lifecycle/binder.js";
import { DryRunAllocator } from "../ipam/lifecycle/dry-run.js";
import { reservedFrom } from "../ipam/lifecycle/pool-commit.js";
import { PoolWriter } from "../ipam/lifecycle/pool-writer.js";
import type { ReserveContext } from "../ipam/lifecycle/reserve.js";
import { ReservationStock } from "../ipam/lifecycle/stock.js";
import type { Allocator, Clock, EventRecorder } from "../ipam/ports.js";
import { effectiveGc, type ClusterConfig, type GcSettings } from "../ipam/kinds/cluster-config.js";
import type { ConsistencyReport } from "../ipam/lifecycle/consistency.js";
import { eventRecorder } from "../k8s/events.js";
import { reuseConnections } from "../k8s/connections.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { LeaderElector } from "../k8s/leader.js";
import { CustomResources, isRefusedWrite } from "../k8s/resources.js";
import { systemClock } from "../runtime/clock.js";
import { createLogger } from "../runtime/log.js";
import { ippoolRules, kindHandlers, multusConfigRules, reservedIPRules, subnetRules } from "./admission/kinds.js";
import { podMutatingHandler, podValidatingHandler } from "./admission/pod.js";
import { whenSynced, type AdmissionHandler } from "./admission/review.js";
import { overlapSerialiser, SeenSpecs } from "./admission/overlap.js";
import { CallerChecks } from "./callers.js";
import { ConfigMapClaims } from "../k8s/claims.js";
import { applicationValidatingHandler } from "./admission/application.js";
import { autoPools, type AutoPools } from "./auto-pools.js";
import { clusterConfigFrom } from "./cluster-config.js";
import type { ControllerConfig } from "./config.js";
import { allSynced, startControllerInformers, stopInformers, type ControllerInformers } from "./informers.js";
import { LateAllocationEndpoint } from "./late-allocation.js";
import { meteredReleases } from "./metered-releases.js";
import { ControllerMetrics } from "./metrics.js";
import { CoordinatorStatusSync } from "./reconcile/coordinator-status.js";
import type { LeaderTask } from "./reconcile/leader-task.js";
import { MultusConfigSync } from "./reconcile/multus-config.js";
import { PodBinding } from "./reconcile/pod-binding.js";
import { FullScan, liveConsistency } from "./reconcile/full-scan.js";
import { HistoryWriter } from "./reconcile/history-writer.js";
import { liveReads, type LiveReads } from "./reconcile/live-reads.js";
import { PoolRecovery } from "./reconcile/pool-recovery.js";
import { PoolStatusSync } from "./reconcile/pool-status.js";
import { ReservationIndex } from "./reconcile/reservation-index.js";
import { AutoPoolSync } from "./reconcile/auto-pools.js";
import { StatefulSetOrdinals } from "./reconcile/statefulset-ordinals.js";
import { stickyAddresses } from "../ipam/lifecycle/statefulset.js";
import { registerWebhooks } from "./registration.js";
import { releaseWait } from "./release-wait.js";
import { startWebhookServer } from "./server.js";
import { ServingCertificates } from "./serving-certificates.js";

export interface Controller {
  readonly port: number;
  /** Port of /metrics, /healthz and /readyz (plain HTTP). */
  readonly metricsPort: number;
  readonly metrics: ControllerMetrics;
  readonly certificates: WebhookCertificates;
  /** Re-reads the certificate Secret, renews what is due (or what `force` says) and serves the result. */
  refreshCertificates(force?: "serving" | "ca"): Promise<void>;
  isReady(): boolean;
  isLeader(): boolean;
  /** Waits until the reconcile queues are empty (tests). */
  settled(): Promise<void>;
  /** Runs a full scan now (leader only; undefined elsewhere) and returns its consistency report. */
  scan(): Promise<ConsistencyReport | undefined>;
  /** The consistency of what the apiserver holds now, read live. */
  consistency(): Promise<ConsistencyReport>;
  close(): Promise<void>;
  /** Stops at once, as a killed process would: no lease handed over, no work finished (failover tests). */
  kill(): Promise<void>;
}

export interface ControllerOptions {
  kubeConfig?: KubeConfig;
  log?: Logger;
  /** Identity in leader election; the host name by default. */
  identity?: string;
}

/** The writable stores of the kinds the controller changes. */
interface Stores {
  pools: CustomResources<SpiderIPPool>;
  subnets: CustomResources<SpiderSubnet>;
  endpoints: CustomResources<SpiderEndpoint>;
  nads: CustomResources<NetworkAttachmentDefinition>;
}

/** What every part of the controller shares: built once here and handed down as narrow views. */
interface Shared {
  kc: KubeConfig;
  config: ControllerConfig;
  log: Logger;
  clock: Clock;
  metrics: ControllerMetrics;
  informers: ControllerInformers;
  stores: Stores;
  live: LiveReads;
  event: EventRecorder;
  /** The cluster configuration (spiderpool-conf) as it is now. */
  cluster: () => ClusterConfig;
}

/** Allocation for admission and late allocation: the pool writer (group commit) and what reservation reads. */
function allocation(
  s: Shared,
  blocked: (pool: SpiderIPPool) => string | undefined,
): { writer: Allocator; reserve: Omit<ReserveContext, "allocator">; dryRun: () => DryRunAllocator; auto: AutoPools; cluster: () => ClusterConfig; reservations: ReservationIndex; stock?: ReservationStock } {
  const { informers: i, config, clock, log, metrics } = s;
  const cluster = s.cluster;
  const reserved = reservedFrom(() => i.reserved.list(), log);
  const common = { cached: (n: string) => i.pools.get(n), reserved, clock, coolDownMs: config.ipam.coolDownMs };
  const writer = new PoolWriter({
    ...common,
    store: s.stores.pools,
    log,
    onConflict: (_pool, requests) => metrics.observeConflict(requests),
    onWrite: (_pool, batch) => metrics.poolWrites.observe(batch),
    mayBeRequestFault: isRefusedWrite,
    blocked,
  });
  const auto = autoPools(s.kc, { informers: i, pools: s.stores.pools, subnets: s.stores.subnets, reserved, cluster, config, clock, log });
  const reserve: Omit<ReserveContext, "allocator"> = {
    pools: i.pools,
    subnets: i.subnets,
    namespaces: i.namespaces,
    nodes: i.nodes,
    reservedIPs: reserved,
    cluster,
    installNamespace: config.namespace,
    clock,
    ttlMs: config.ipam.reservationTtlMs,
    networks: async (ref) => i.nads.get(ref.name, ref.namespace) ?? (await s.stores.nads.get(ref.name, ref.namespace)),
    primaryNetwork: config.ipam.primaryNetwork,
    maxNics: config.ipam.maxNics,
    autoPool: (pod, iface, family, subnets, dryRun) => auto.pools.forPod(pod, iface, family, subnets, dryRun),
    sticky: (pod) => (cluster().enableStatefulSet && pod.name ? stickyAddresses(pod, i.endpoints.get(pod.name, pod.namespace)) : []),
  };
  // Which Pod carries which reservation: the leader's collector and this replica's stock ask.
  const reservations = new ReservationIndex(i.pods);
  const stock =
    config.ipam.reservationStock > 0
      ? new ReservationStock({
          allocator: writer,
          pools: i.pools,
          clock,
          ttlMs: config.ipam.reservationTtlMs,
          marginMs: config.ipam.refusedPodGraceMs,
          size: config.ipam.reservationStock,
          idleMs: STOCK_IDLE_MS,
          blocked,
          log,
          refused: { graceMs: config.ipam.refusedPodGraceMs, podWith: (id) => reservations.podWith(id), livePodsByReservation: s.live.podsByReservation },
          onEvent: (event, n) => metrics.stock.inc({ event }, n),
        })
      : undefined;
  stock?.startSweeping();
  return { writer: meteredReleases(writer, metrics), reserve, dryRun: () => new DryRunAllocator(common), auto, cluster, reservations, ...(stock ? { stock } : {}) };
}

/** A combination of pools no unnamed Pod's admission asked for in this long gives its stocked reservations back. */
const STOCK_IDLE_MS = 10_000;

/** How long an admitted pool or subnet stays claimed for the overlap checks of others (webhook/admission/overlap.ts). */
const OVERLAP_CLAIM_TTL_MS = 30_000;

/** What the pool and subnet caches have seen, for the overlap claims (followed from the first event on). */
function seenSpecs(i: ControllerInformers): SeenSpecs {
  const seen = new SeenSpecs(OVERLAP_CLAIM_TTL_MS);
  for (const cache of [i.pools, i.subnets] as const) {
    cache.on("add", (o) => seen.note(o));
    cache.on("update", (o) => seen.note(o));
    cache.on("delete", (o) => seen.deleted(o));
  }
  return seen;
}

/** The admission handlers, by path segment under /webhooks/. */
function admissionHandlers(s: Shared, a: ReturnType<typeof allocation>, seen: SeenSpecs): Record<string, AdmissionHandler> {
  const { informers: i, config } = s;
  const context = (): PoolContext => ({ pools: i.pools.list(), subnets: i.subnets.list(), held: heldAddresses });
  const synced = (): boolean => allSynced(i);
  const serialise = overlapSerialiser({ claims: new ConfigMapClaims(s.kc, config.namespace, "spiderpool-overlap-claims"), seen, clock: s.clock, ttlMs: OVERLAP_CLAIM_TTL_MS, log: s.log });
  const handlers: Record<string, AdmissionHandler> = {};
  // The subnets as stored now, for an admission the cache cannot decide (a subnet created a moment ago).
  const live = async (): Promise<PoolContext> => ({ ...context(), subnets: (await s.stores.subnets.list()).items });
  for (const [path, rules] of [["spiderippool", ippoolRules], ["spidersubnet", subnetRules], ["spiderreservedip", reservedIPRules], ["spidermultusconfig", multusConfigRules]] as const) {
    const h = kindHandlers<never>(rules as never, context, serialise, live);
    handlers[`mutate-${path}`] = whenSynced(synced, h.mutate);
    handlers[`validate-${path}`] = whenSynced(synced, h.validate);
  }
  const systemUsers = new Set(config.ipam.systemUsers);
  handlers["mutate-pod"] = podMutatingHandler({
    // Only admissions take from the stock (late allocation serves Pods that exist already).
    reserve: a.stock ? { ...a.reserve, stock: a.stock } : a.reserve,
    allocator: a.writer,
    dryRunAllocator: a.dryRun,
    excludedNamespaces: new Set(config.ipam.excludedNamespaces),
    systemUsers,
    log: s.log,
    synced,
    observe: (outcome) => s.metrics.observeAdmission(outcome),
    releases: releaseWait(i, s.clock),
  });
  handlers["validate-pod"] = podValidatingHandler({ systemUsers });
  handlers["validate-application"] = whenSynced(synced, applicationValidatingHandler({ pools: a.auto.pools, apps: a.auto.apps, log: s.log }));
  return handlers;
}

/** The leader's tasks, and the full scan (also asked for on demand). */
interface Leading {
  tasks: LeaderTask[];
  scan: FullScan;
  history: HistoryWriter;
}

/** The reconcilers that run on the leader only; every replica serves admission. */
function leaderTasks(s: Shared, a: ReturnType<typeof allocation>, recovery: PoolRecovery): Leading {
  const writer = a.writer;
  const { informers: i, stores, log, metrics, live } = s;
  const gc = (): GcSettings => effectiveGc(s.config.gc, s.cluster());
  const history = new HistoryWriter(s.kc, { namespace: s.config.namespace, pools: i.pools, clock: s.clock, log });
  const deletedNodes = new Set<string>();
  // Deletions are released within seconds; the last 16,384 uids (about 1.5 MiB) cover a burst.
  const deletedPods = new RecentMap<string, true>(16_384);
  const binder = new Binder({
    nodeDeleted: (n) => deletedNodes.has(n),
    podDeleted: (uid) => deletedPods.has(uid),
    pods: i.pods,
    endpoints: i.endpoints,
    pools: i.pools,
    nodes: i.nodes,
    livePod: live.pod,
    liveNode: live.node,
    poolStore: stores.pools,
    endpointStore: stores.endpoints,
    allocator: writer,
    event: s.event,
    gc,
    clock: s.clock,
    log,
    onRelease: (reason, released, ep) => {
      if (released.length === 0) return;
      history.record(reason, released, ep);
      metrics.releases.inc({ reason }, released.length);
      if (reason !== "replaced") metrics.gc.inc({ reason }, released.length);
    },
    statefulSets: i.applications.StatefulSet,
    statefulSetsSticky: () => s.cluster().enableStatefulSet,
    bindWaitForNodeMs: s.config.ipam.bindWaitForNodeMs,
  });
  const binding = new PodBinding({
    pods: i.pods,
    endpoints: i.endpoints,
    pools: i.pools,
    nodes: i.nodes,
    binder,
    deletedNodes,
    deletedPods,
    reservations: a.reservations,
    livePodsByReservation: live.podsByReservation,
    allocator: writer,
    clock: s.clock,
    log,
    reservationTtlMs: s.config.ipam.reservationTtlMs,
    refusedPodGraceMs: s.config.ipam.refusedPodGraceMs,
    livePod: live.pod,
    onExpiredRelease: (n) => metrics.gc.inc({ reason: "reservation-expired" }, n),
    onFailure: (reason) => metrics.gcFailures.inc({ reason }),
  });
  const scan = new FullScan({
    binding,
    live,
    allocator: writer,
    gc,
    synced: async () => {
      await Promise.all(Object.values(i).map((c: { synced: Promise<void> }) => c.synced));
    },
    clock: s.clock,
    log,
    onOrphansReleased: (n) => metrics.gc.inc({ reason: "orphaned" }, n),
    onReport: (r) => metrics.observeConsistency(r),
  });
  const status = new PoolStatusSync({ pools: i.pools, subnets: i.subnets, poolApi: stores.pools, subnetApi: stores.subnets, log, clock: s.clock, rebuild: (p) => recovery.rebuildIfNeeded(p) });
  const others: LeaderTask[] = [
    new MultusConfigSync({ multusConfigs: i.multusConfigs, nads: i.nads, nadStore: stores.nads, log }),
    new CoordinatorStatusSync({ kc: s.kc, nodes: i.nodes, log }),
    new AutoPoolSync({ pools: i.pools, applications: i.applications, reconciler: a.auto.reconciler, log, resyncMs: s.config.ipam.autoPoolResyncMs }),
    new StatefulSetOrdinals({ statefulSets: i.applications.StatefulSet, endpoints: i.endpoints, binder, log }),
  ];
  return { tasks: [binding, status, scan, ...others], scan, history };
}

/** The pool writer's guard and the leader's rebuild of pools whose status was wiped or corrupted. */
function poolRecovery(s: Shared): PoolRecovery {
  const { informers: i } = s;
  return new PoolRecovery({ endpoints: i.endpoints, pods: i.pods, live: s.live, poolStore: s.stores.pools, clock: s.clock, ttlMs: s.config.ipam.reservationTtlMs, event: s.event, log: s.log });
}

/** The JSON routes beside admission: late allocation for the agents, the operators' reports and scans; each behind its guard. */
function guardedRoutes(
  s: Shared,
  r: { late: LateAllocationEndpoint; callers: CallerChecks; history: HistoryWriter; scan: FullScan; isLeader: () => boolean; identity: string },
): Pick<Parameters<typeof startWebhookServer>[0], "gets" | "posts"> {
  const { config } = s;
  const { late, callers, history, scan, identity } = r;
  return {
    gets: {
      "/v1/consistency": { guard: callers.operator("/v1/consistency", "get"), handle: async () => ({ status: 200, body: await liveConsistency(s.live, () => s.clock.now()) }) },
      "/v1/history": {
        guard: callers.operator("/v1/history", "get"),
        handle: async (q) => (q.pool ? { status: 200, body: await history.history(q.pool, q.address) } : { status: 400, body: { message: "name the pool: /v1/history?pool=NAME[&address=IP]" } }),
      },
    },
    posts: {
      "/v1/allocate": { guard: callers.agent(config.ipam.agentAudience, new Set(config.ipam.agentUsers)), handle: (body, caller) => late.handle(body, caller) },
      // On demand: a full scan on the leader; another replica says who to ask.
      "/v1/gc": {
        guard: callers.operator("/v1/gc", "post"),
        handle: async () => (r.isLeader() ? { status: 200, body: await scan.scan() } : { status: 503, body: { message: `replica ${identity} is not the leader; ask the replica holding Lease ${config.namespace}/spiderpool-controller` } }),
      },
    },
  };
}

/**
 * spiderpool-controller, wired in one place: every informer is started once here and each
 * part gets the narrow views it needs; the admission server answers on every replica, the
 * reconcilers run on the replica holding the Lease.
 */
export async function startController(config: ControllerConfig, opts: ControllerOptions = {}): Promise<Controller> {
  const kc = reuseConnections(opts.kubeConfig ?? loadKubeConfig(config));
  const log = opts.log ?? createLogger("spiderpool-controller", config.logLevel);
  const identity = opts.identity ?? `${hostname()}-${process.pid}`;
  const informers = startControllerInformers(kc, config, log);
  const stores: Stores = {
    pools: new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL),
    subnets: new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL),
    endpoints: new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true),
    nads: new CustomResources<NetworkAttachmentDefinition>(kc, NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION }),
  };
  const s: Shared = { kc, config, log, clock: systemClock, metrics: new ControllerMetrics(true), informers, stores, live: liveReads(kc, stores), event: eventRecorder(kc, "spiderpool-controller", identity, log), cluster: clusterConfigFrom(informers.configMaps, log) };
  // Everything that follows informer events is built before the first await, so no event is missed.
  const recovery = poolRecovery(s);
  const alloc = allocation(s, recovery.blocked);
  const { tasks, scan, history } = leaderTasks(s, alloc, recovery);
  const seen = seenSpecs(informers);

  const certificates = new ServingCertificates(kc, config, s.metrics, log);
  const tls = await certificates.initial();
  if (config.registration.enabled) await registerWebhooks(kc, config, tls.caBundlePem);
  const late = new LateAllocationEndpoint(kc, { reserve: alloc.reserve, allocator: alloc.writer, clock: s.clock, log });
  const callers = new CallerChecks(kc);
  const synced = (): boolean => allSynced(informers);
  const server = await startWebhookServer({
    host: config.host,
    port: config.port,
    http2: config.http2,
    metricsPort: config.metricsPort,
    tls,
    ...(config.admissionClients.caFile ? { admissionClients: { caPem: readFileSync(config.admissionClients.caFile, "utf8"), names: config.admissionClients.names } } : {}),
    handlers: admissionHandlers(s, alloc, seen),
    ready: synced,
    metrics: s.metrics,
    log,
    beforeScrape: () => {
      s.metrics.refreshPools(informers.pools.list(), informers.subnets.list().length);
      s.metrics.refreshSubnets(informers.subnets.list());
    },
    ...guardedRoutes(s, { late, callers, history, scan, isLeader: () => elector.isLeader(), identity }),
  });
  certificates.follow((next) => server.setTls(next));

  const elector = new LeaderElector(
    kc,
    { namespace: config.namespace, name: "spiderpool-controller", identity, leaseDurationSeconds: config.leader.leaseMs / 1000, renewEveryMs: config.leader.retryPeriodMs, renewDeadlineMs: config.leader.renewDeadlineMs },
    { onStart: () => tasks.forEach((t) => t.startLeading()), onStop: () => tasks.forEach((t) => t.stopLeading()) },
    log,
  );
  elector.start();

  return {
    port: server.port,
    metricsPort: server.metricsPort,
    metrics: s.metrics,
    certificates: certificates.manager,
    refreshCertificates: (force) => certificates.refresh(force),
    isReady: synced,
    isLeader: () => elector.isLeader(),
    settled: async () => {
      for (const t of tasks) await t.settled();
    },
    scan: async () => (elector.isLeader() ? scan.scan() : undefined),
    consistency: () => liveConsistency(s.live, () => s.clock.now()),
    async kill() {
      alloc.stock?.abandon();
      certificates.stop();
      history.stop();
      elector.abandon();
      for (const t of tasks) t.stop();
      await server.close(0);
      await stopInformers(informers);
    },
    async close() {
      certificates.stop();
      await elector.stop();
      for (const t of tasks) t.stop();
      history.stop();
      await history.flush();
      await server.close().then(() => alloc.stock?.close());
      await stopInformers(informers);
    },
  };
}
