import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Namespace, type V1Node } from "@kubernetes/client-node";
import yaml from "js-yaml";
import type { Logger } from "pino";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { buildPoolView } from "../../ipam/allocation/pool-view.js";
import { poolUsage } from "../../ipam/allocation/usage.js";
import { parseAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { DEFAULT_CLUSTER_CONFIG, parseClusterConfig, type ClusterConfig } from "../../ipam/kinds/cluster-config.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { SpiderReservedIP } from "../../ipam/kinds/reservedip.js";
import type { SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { podMutatingHandler, podValidatingHandler } from "../admission/pod.js";
import type { ControllerConfig } from "../config.js";
import { startInformer, type StartedInformer } from "../../k8s/informer.js";
import { CustomResources } from "../../k8s/resources.js";
import type { ControllerMetrics } from "../metrics.js";
import { WorkQueue } from "../reconcile/queue.js";
import type { AdmissionHandler } from "../server.js";
import { AutoPools } from "./auto-pools.js";
import { Binder, type PodLike } from "./binder.js";
import { DryRunAllocator, PoolWriter, reservedFrom } from "../../k8s/pool-writer.js";
import { LateAllocation } from "./late-allocation.js";
import { collectExpiredReservations } from "./reservation-gc.js";
import type { ReserveContext } from "./reserve.js";

export interface IpamCaches {
  pools: StartedInformer<SpiderIPPool>;
  subnets: StartedInformer<SpiderSubnet>;
  reserved: StartedInformer<SpiderReservedIP>;
}

/**
 * Pod admission and what follows it: the pool writer (group commit), the Pod webhooks,
 * and, on the leader, the binder (reservation -> SpiderEndpoint) and the collector of
 * reservations that never became Pods.
 */
export class IpamService {
  readonly handlers: Record<string, AdmissionHandler>;
  readonly late: LateAllocation;
  readonly writer: PoolWriter;
  private readonly pods: StartedInformer<PodLike>;
  private readonly endpoints: StartedInformer<SpiderEndpoint>;
  private readonly namespaces: StartedInformer<V1Namespace>;
  private readonly nodes: StartedInformer<V1Node>;
  private readonly configMaps: StartedInformer<V1ConfigMap>;
  private readonly queue: WorkQueue;
  private readonly binder: Binder;
  private cluster: ClusterConfig = DEFAULT_CLUSTER_CONFIG;
  private leading = false;
  private gcTimer?: NodeJS.Timeout;
  /** reservation id -> ns/name of the Pod carrying it (for the collector's second look). */
  private readonly byReservation = new Map<string, string>();

  constructor(
    kc: KubeConfig,
    private readonly config: ControllerConfig,
    private readonly caches: IpamCaches,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    this.pods = startInformer<PodLike>(kc, "pods", "/api/v1/pods", async () => (await core.listPodForAllNamespaces()) as never, log);
    const endpointApi = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    this.endpoints = startInformer(kc, "spiderendpoints", endpointApi.path, () => endpointApi.list(), log);
    this.namespaces = startInformer(kc, "namespaces", "/api/v1/namespaces", () => core.listNamespace(), log);
    this.nodes = startInformer(kc, "nodes", "/api/v1/nodes", () => core.listNode(), log);
    const ns = config.namespace;
    this.configMaps = startInformer(kc, "configmaps", `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns, fieldSelector: `metadata.name=${config.ipam.configMap}` }), log, { fieldSelector: `metadata.name=${config.ipam.configMap}` });
    for (const ev of ["add", "update"] as const) this.configMaps.on(ev, (cm) => this.loadClusterConfig(cm));
    this.configMaps.on("delete", () => (this.cluster = DEFAULT_CLUSTER_CONFIG));

    const poolApi = caches.pools;
    const poolStore = new CustomResources<SpiderIPPool>(kc, "spiderippools");
    const reservedOf = reservedFrom(() => caches.reserved.list(), log);
    const now = (): number => Date.now();
    const writerOptions = { cached: (n: string) => poolApi.get(n), reserved: reservedOf, now, coolDownMs: config.ipam.coolDownMs };
    this.writer = new PoolWriter({
      ...writerOptions,
      store: poolStore,
      log,
      onConflict: () => metrics.poolConflicts.inc(),
      onWrite: (_pool, batch) => metrics.poolWrites.observe(batch),
    });
    const autoPools = new AutoPools(kc, {
      pools: poolStore,
      subnets: new CustomResources<SpiderSubnet>(kc, "spidersubnets"),
      poolCache: () => caches.pools.list(),
      reserved: reservedOf,
      cluster: () => this.cluster,
      log,
    });
    const reserve: Omit<ReserveContext, "allocator"> = {
      pools: () => caches.pools.list(),
      pool: (n) => caches.pools.get(n),
      subnets: () => caches.subnets.list(),
      reservedIPs: reservedOf,
      namespace: (n) => this.namespaces.get(n)?.metadata,
      node: (n) => {
        const node = this.nodes.get(n);
        return node ? { name: n, ...(node.metadata?.labels ? { labels: node.metadata.labels } : {}) } : undefined;
      },
      cluster: () => this.cluster,
      installNamespace: ns,
      now,
      ttlMs: config.ipam.reservationTtlMs,
      autoPool: (pod, iface, family, subnets, dryRun) =>
        autoPools.ensure({ namespace: pod.namespace, annotations: pod.annotations, ownerReferences: pod.ownerReferences ?? [], interface: iface, family, subnets, dryRun }),
    };
    const excludedNamespaces = new Set(config.ipam.excludedNamespaces);
    const systemUsers = new Set(config.ipam.systemUsers);
    this.handlers = {
      "mutate-pod": podMutatingHandler({
        reserve,
        allocator: this.writer,
        dryRunAllocator: () => new DryRunAllocator(writerOptions),
        excludedNamespaces,
        systemUsers,
        log,
        observe: ({ ok, reason, seconds, dryRun }) => {
          if (dryRun) return;
          metrics.allocationDuration.observe(seconds);
          if (ok) metrics.allocations.inc();
          else {
            metrics.allocationFailures.inc({ reason: reason ?? "UNKNOWN" });
            if (reason === "POOL_EXHAUSTED") metrics.usedOut.inc();
            if (reason === "NO_CANDIDATE_POOL" || reason === "POOL_NOT_FOUND") metrics.noPool.inc();
          }
        },
      }),
      "validate-pod": podValidatingHandler({ systemUsers }),
    };

    this.late = new LateAllocation(kc, reserve, this.writer, new Set(config.ipam.agentUsers), log);

    this.binder = new Binder({
      pods: this.pods,
      endpoints: this.endpoints,
      pools: caches.pools,
      poolApi: poolStore,
      endpointApi,
      allocator: this.writer,
      event: (pod, type, reason, message) => this.event(core, pod, type, reason, message),
      log,
      onRelease: (reason, n) => metrics.releases.inc({ reason }, n),
    });
    this.queue = new WorkQueue("pods", (key) => this.binder.reconcile(key), log, 4);
    const onPod = (pod: PodLike): void => {
      const key = `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;
      const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
      if (text) {
        try {
          this.byReservation.set(parseAssignedIPs(text).reservation, key);
        } catch {
          // the binder reports it
        }
      }
      if (this.leading && (text || this.endpoints.get(pod.metadata.name ?? "", pod.metadata.namespace))) this.queue.add(key);
    };
    this.pods.on("add", onPod);
    this.pods.on("update", onPod);
    this.pods.on("delete", (pod) => {
      const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
      if (text) {
        try {
          this.byReservation.delete(parseAssignedIPs(text).reservation);
        } catch {
          // nothing was indexed
        }
      }
      if (this.leading) this.queue.add(`${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`);
    });
    for (const ev of ["add", "update", "delete"] as const) {
      this.endpoints.on(ev, (ep) => {
        if (this.leading) this.queue.add(`${ep.metadata.namespace ?? ""}/${ep.metadata.name ?? ""}`);
      });
    }
  }

  private loadClusterConfig(cm: V1ConfigMap): void {
    const text = cm.data?.["conf.yml"] ?? "";
    let raw: unknown;
    try {
      raw = yaml.load(text);
    } catch (err) {
      this.log.error({ err, configMap: cm.metadata?.name }, "conf.yml is not YAML; keeping the previous cluster configuration");
      return;
    }
    const { config, errors, ignored } = parseClusterConfig(raw);
    if (errors.length > 0) {
      this.log.error({ errors, configMap: cm.metadata?.name }, "conf.yml is invalid; keeping the previous cluster configuration");
      return;
    }
    if (ignored.length > 0) this.log.debug({ ignored }, "conf.yml keys this project does not use");
    this.cluster = config;
    this.log.info({ cluster: config }, "cluster configuration loaded");
  }

  private async event(core: CoreV1Api, pod: PodLike, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const namespace = pod.metadata.namespace ?? "default";
    const now = new Date();
    try {
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${pod.metadata.name ?? "pod"}.`, namespace },
          involvedObject: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, namespace, uid: pod.metadata.uid },
          type,
          reason,
          message,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: "spiderpool-controller" },
          reportingComponent: "spiderpool-controller",
          reportingInstance: this.config.namespace,
        },
      });
    } catch (err) {
      this.log.warn({ err, reason }, "could not record an event");
    }
  }

  isSynced(): boolean {
    return [this.pods, this.endpoints, this.namespaces, this.nodes, this.configMaps].every((i) => i.isSynced());
  }

  /** Per-pool gauges, refreshed when /metrics is scraped. */
  refreshGauges(): void {
    const pools = this.caches.pools.list();
    this.metrics.poolCount.set(pools.length);
    this.metrics.subnetCount.set(this.caches.subnets.list().length);
    this.metrics.poolTotal.reset();
    this.metrics.poolAvailable.reset();
    for (const p of pools) {
      try {
        const view = buildPoolView(p);
        const usage = poolUsage(view, decodeAllocations(p.status?.allocations, view.subnet));
        this.metrics.poolTotal.set({ pool: p.metadata.name ?? "" }, usage.total);
        this.metrics.poolAvailable.set({ pool: p.metadata.name ?? "" }, usage.available);
      } catch {
        continue;
      }
    }
  }

  /** Leader work: bind every Pod with a reservation, collect expired ones periodically. */
  startLeading(): void {
    this.leading = true;
    void Promise.all([this.pods.synced, this.endpoints.synced, this.caches.pools.synced]).then(() => {
      if (!this.leading) return;
      for (const pod of this.pods.list()) if (pod.metadata.annotations?.[ANNO_ASSIGNED_IPS]) this.queue.add(`${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`);
      for (const ep of this.endpoints.list()) this.queue.add(`${ep.metadata.namespace ?? ""}/${ep.metadata.name ?? ""}`);
      this.scheduleGc();
    });
  }

  private scheduleGc(): void {
    const every = Math.max(1000, Math.floor(this.config.ipam.reservationTtlMs / 4));
    this.gcTimer = setTimeout(() => {
      collectExpiredReservations({
        pools: () => this.caches.pools.list(),
        podWithReservation: (id) => {
          const key = this.byReservation.get(id);
          const [ns = "", name = ""] = key?.split("/", 2) ?? [];
          return key && this.pods.get(name, ns) ? key : undefined;
        },
        bind: (key) => this.queue.add(key),
        allocator: this.writer,
        now: () => Date.now(),
        log: this.log,
        onRelease: (n) => this.metrics.gc.inc({ reason: "reservation-expired" }, n),
      })
        .catch((err: unknown) => this.log.error({ err }, "reservation collector failed"))
        .finally(() => {
          if (this.leading) this.scheduleGc();
        });
    }, every);
  }

  stopLeading(): void {
    this.leading = false;
    if (this.gcTimer) clearTimeout(this.gcTimer);
  }

  settled(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.stopLeading();
    this.queue.stop();
    await Promise.all([this.pods, this.endpoints, this.namespaces, this.nodes, this.configMaps].map((i) => i.stop()));
  }
}
