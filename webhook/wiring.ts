import type { KubeConfig } from "@kubernetes/client-node";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { WebhookCertificates } from "../certs/manager.js";
import { heldAddresses } from "../ipam/allocation/usage.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PoolContext } from "../ipam/kinds/ippool-admission.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { NAD_GROUP, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../ipam/kinds/network-attachment.js";
import { Binder } from "../ipam/lifecycle/binder.js";
import { DryRunAllocator } from "../ipam/lifecycle/dry-run.js";
import { reservedFrom } from "../ipam/lifecycle/pool-commit.js";
import { PoolWriter } from "../ipam/lifecycle/pool-writer.js";
import type { ReserveContext } from "../ipam/lifecycle/reserve.js";
import type { Allocator, Clock } from "../ipam/ports.js";
import { eventRecorder } from "../k8s/events.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { LeaderElector } from "../k8s/leader.js";
import { CustomResources, isRefusedWrite } from "../k8s/resources.js";
import { systemClock } from "../runtime/clock.js";
import { createLogger } from "../runtime/log.js";
import { ippoolRules, kindHandlers, multusConfigRules, reservedIPRules, subnetRules } from "./admission/kinds.js";
import { podMutatingHandler, podValidatingHandler } from "./admission/pod.js";
import type { AdmissionHandler } from "./admission/review.js";
import { AutoPools } from "./auto-pools.js";
import { clusterConfigFrom } from "./cluster-config.js";
import type { ControllerConfig } from "./config.js";
import { allSynced, startControllerInformers, stopInformers, type ControllerInformers } from "./informers.js";
import { LateAllocationEndpoint } from "./late-allocation.js";
import { meteredReleases } from "./metered-releases.js";
import { ControllerMetrics } from "./metrics.js";
import type { LeaderTask } from "./reconcile/leader-task.js";
import { MultusConfigSync } from "./reconcile/multus-config.js";
import { PodBinding } from "./reconcile/pod-binding.js";
import { PoolStatusSync } from "./reconcile/pool-status.js";
import { ReservationIndex } from "./reconcile/reservation-index.js";
import { registerWebhooks } from "./registration.js";
import { startWebhookServer } from "./server.js";
import { ServingCertificates } from "./serving-certificates.js";

export interface Controller {
  readonly port: number;
  readonly metrics: ControllerMetrics;
  readonly certificates: WebhookCertificates;
  /** Re-reads the certificate Secret, renews what is due (or what `force` says) and serves the result. */
  refreshCertificates(force?: "serving" | "ca"): Promise<void>;
  isReady(): boolean;
  isLeader(): boolean;
  /** Waits until the reconcile queues are empty (tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
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
}

/** Allocation for admission and late allocation: the pool writer (group commit) and what reservation reads. */
function allocation(s: Shared): { writer: Allocator; reserve: Omit<ReserveContext, "allocator">; dryRun: () => DryRunAllocator } {
  const { informers: i, config, clock, log, metrics } = s;
  const cluster = clusterConfigFrom(i.configMaps, log);
  const reserved = reservedFrom(() => i.reserved.list(), log);
  const common = { cached: (n: string) => i.pools.get(n), reserved, clock, coolDownMs: config.ipam.coolDownMs };
  const writer = new PoolWriter({
    ...common,
    store: s.stores.pools,
    log,
    onConflict: (_pool, requests) => metrics.observeConflict(requests),
    onWrite: (_pool, batch) => metrics.poolWrites.observe(batch),
    mayBeRequestFault: isRefusedWrite,
  });
  const autoPools = new AutoPools(s.kc, { pools: s.stores.pools, subnets: s.stores.subnets, poolCache: () => i.pools.list(), reserved, cluster, clock, log });
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
    autoPool: (pod, iface, family, subnets, dryRun) =>
      autoPools.ensure({ namespace: pod.namespace, annotations: pod.annotations, ownerReferences: pod.ownerReferences ?? [], interface: iface, family, subnets, dryRun }),
  };
  return { writer: meteredReleases(writer, metrics), reserve, dryRun: () => new DryRunAllocator(common) };
}

/** The admission handlers, by path segment under /webhooks/. */
function admissionHandlers(s: Shared, a: ReturnType<typeof allocation>): Record<string, AdmissionHandler> {
  const { informers: i, config } = s;
  const context = (): PoolContext => ({ pools: i.pools.list(), subnets: i.subnets.list(), held: heldAddresses });
  const handlers: Record<string, AdmissionHandler> = {};
  for (const [path, rules] of [["spiderippool", ippoolRules], ["spidersubnet", subnetRules], ["spiderreservedip", reservedIPRules], ["spidermultusconfig", multusConfigRules]] as const) {
    const h = kindHandlers<never>(rules as never, context);
    handlers[`mutate-${path}`] = h.mutate;
    handlers[`validate-${path}`] = h.validate;
  }
  const systemUsers = new Set(config.ipam.systemUsers);
  handlers["mutate-pod"] = podMutatingHandler({
    reserve: a.reserve,
    allocator: a.writer,
    dryRunAllocator: a.dryRun,
    excludedNamespaces: new Set(config.ipam.excludedNamespaces),
    systemUsers,
    log: s.log,
    observe: (outcome) => s.metrics.observeAdmission(outcome),
  });
  handlers["validate-pod"] = podValidatingHandler({ systemUsers });
  return handlers;
}

/** The reconcilers that run on the leader only; every replica serves admission. */
function leaderTasks(s: Shared, writer: Allocator, identity: string): LeaderTask[] {
  const { informers: i, stores, log, metrics } = s;
  const binder = new Binder({
    pods: i.pods,
    endpoints: i.endpoints,
    pools: i.pools,
    poolStore: stores.pools,
    endpointStore: stores.endpoints,
    allocator: writer,
    event: eventRecorder(s.kc, "spiderpool-controller", identity, log),
    log,
    onRelease: (reason, n) => metrics.releases.inc({ reason }, n),
  });
  return [
    new PodBinding({
      pods: i.pods,
      endpoints: i.endpoints,
      pools: i.pools,
      binder,
      reservations: new ReservationIndex(i.pods),
      allocator: writer,
      clock: s.clock,
      log,
      reservationTtlMs: s.config.ipam.reservationTtlMs,
      onExpiredRelease: (n) => metrics.gc.inc({ reason: "reservation-expired" }, n),
    }),
    new PoolStatusSync({ pools: i.pools, subnets: i.subnets, poolApi: stores.pools, subnetApi: stores.subnets, log }),
    new MultusConfigSync({ multusConfigs: i.multusConfigs, nads: i.nads, nadStore: stores.nads, log }),
  ];
}

/**
 * spiderpool-controller, wired in one place: every informer is started once here and each
 * part gets the narrow views it needs; the admission server answers on every replica, the
 * reconcilers run on the replica holding the Lease.
 */
export async function startController(config: ControllerConfig, opts: ControllerOptions = {}): Promise<Controller> {
  const kc = opts.kubeConfig ?? loadKubeConfig(config);
  const log = opts.log ?? createLogger("spiderpool-controller", config.logLevel);
  const identity = opts.identity ?? `${hostname()}-${process.pid}`;
  const informers = startControllerInformers(kc, config, log);
  const stores: Stores = {
    pools: new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL),
    subnets: new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL),
    endpoints: new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true),
    nads: new CustomResources<NetworkAttachmentDefinition>(kc, NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION }),
  };
  const s: Shared = { kc, config, log, clock: systemClock, metrics: new ControllerMetrics(true), informers, stores };
  // Everything that follows informer events is built before the first await, so no event is missed.
  const alloc = allocation(s);
  const tasks = leaderTasks(s, alloc.writer, identity);

  const certificates = new ServingCertificates(kc, config, s.metrics, log);
  const tls = await certificates.initial();
  if (config.registration.enabled) await registerWebhooks(kc, config, tls.caBundlePem);
  const late = new LateAllocationEndpoint(kc, { reserve: alloc.reserve, allocator: alloc.writer, log }, new Set(config.ipam.agentUsers));
  const synced = (): boolean => allSynced(informers);
  const server = await startWebhookServer({
    host: config.host,
    port: config.port,
    tls,
    handlers: admissionHandlers(s, alloc),
    ready: synced,
    metrics: s.metrics,
    log,
    beforeScrape: () => {
      s.metrics.refreshPools(informers.pools.list(), informers.subnets.list().length);
      s.metrics.refreshSubnets(informers.subnets.list());
    },
    posts: { "/v1/allocate": (body, authorization) => late.handle(body, authorization) },
  });
  certificates.follow((next) => server.setTls(next));

  const elector = new LeaderElector(
    kc,
    { namespace: config.namespace, name: "spiderpool-controller", identity, leaseDurationSeconds: 15, renewEveryMs: 5000 },
    { onStart: () => tasks.forEach((t) => t.startLeading()), onStop: () => tasks.forEach((t) => t.stopLeading()) },
    log,
  );
  elector.start();

  return {
    port: server.port,
    metrics: s.metrics,
    certificates: certificates.manager,
    refreshCertificates: (force) => certificates.refresh(force),
    isReady: synced,
    isLeader: () => elector.isLeader(),
    settled: async () => {
      for (const t of tasks) await t.settled();
    },
    async close() {
      certificates.stop();
      await elector.stop();
      for (const t of tasks) t.stop();
      await server.close();
      await stopInformers(informers);
    },
  };
}
