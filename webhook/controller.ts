import { KubeConfig } from "@kubernetes/client-node";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { WebhookCertificates } from "../certs/manager.js";
import { secretStore, webhookCaBundleTarget } from "../certs/k8s.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import type { PoolContext } from "../ipam/kinds/ippool-admission.js";
import { ippoolRules, kindHandlers, reservedIPRules, subnetRules } from "./admission/kinds.js";
import type { ControllerConfig } from "./config.js";
import { startInformer, type StartedInformer } from "../k8s/informer.js";
import { LeaderElector } from "../k8s/leader.js";
import { CustomResources } from "../k8s/resources.js";
import { createLogger } from "../k8s/log.js";
import { ControllerMetrics } from "./metrics.js";
import { IpamService } from "./ipam/service.js";
import { PoolReconciler } from "./reconcile/pools.js";
import { WorkQueue } from "./reconcile/queue.js";
import { registerWebhooks } from "./registration.js";
import { startWebhookServer, type AdmissionHandler, type WebhookServer } from "./server.js";

export interface Controller {
  readonly port: number;
  readonly metrics: ControllerMetrics;
  readonly certificates: WebhookCertificates;
  /** Re-reads the certificate Secret, renews what is due (or what `force` says) and serves the result. */
  refreshCertificates(force?: "serving" | "ca"): Promise<void>;
  isReady(): boolean;
  isLeader(): boolean;
  /** Waits until the reconcile queue is empty (tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface ControllerOptions {
  kubeConfig?: KubeConfig;
  log?: Logger;
  /** Identity in leader election; the host name by default. */
  identity?: string;
}

export function loadKubeConfig(config: ControllerConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

/**
 * spiderpool-controller: the admission server for the Spiderpool kinds, its certificates,
 * and the reconcilers (leader-elected) that keep pool and subnet status true.
 */
export async function startController(config: ControllerConfig, opts: ControllerOptions = {}): Promise<Controller> {
  const kc = opts.kubeConfig ?? loadKubeConfig(config);
  const log = opts.log ?? createLogger("spiderpool-controller", config.logLevel);
  const identity = opts.identity ?? `${hostname()}-${process.pid}`;
  const metrics = new ControllerMetrics(true);

  const poolApi = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  const subnetApi = new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL);
  const reservedApi = new CustomResources<SpiderReservedIP>(kc, RESERVEDIP_PLURAL);
  const pools: StartedInformer<SpiderIPPool> = startInformer(kc, "spiderippools", poolApi.path, () => poolApi.list(), log);
  const subnets: StartedInformer<SpiderSubnet> = startInformer(kc, "spidersubnets", subnetApi.path, () => subnetApi.list(), log);
  const reserved: StartedInformer<SpiderReservedIP> = startInformer(kc, "spiderreservedips", reservedApi.path, () => reservedApi.list(), log);
  const context = (): PoolContext => ({ pools: pools.list(), subnets: subnets.list() });

  const certificates = new WebhookCertificates(
    secretStore(kc, config.namespace, config.tls.secretName),
    [webhookCaBundleTarget(kc, config.webhookConfigurations)],
    { ...config.tls, namespace: config.namespace },
    () => new Date(),
    (what) => {
      log.info({ what }, "webhook certificates rotated");
      metrics.certificateRotations.inc({ what });
    },
  );
  const tls = await certificates.reconcile();
  let served = tls.certPem;
  if (config.registration.enabled) await registerWebhooks(kc, config, tls.caBundlePem);

  const handlers: Record<string, AdmissionHandler> = {};
  for (const [path, rules] of [["spiderippool", ippoolRules], ["spidersubnet", subnetRules], ["spiderreservedip", reservedIPRules]] as const) {
    const h = kindHandlers<never>(rules as never, context);
    handlers[`mutate-${path}`] = h.mutate;
    handlers[`validate-${path}`] = h.validate;
  }
  const ipam = new IpamService(kc, config, { pools, subnets, reserved }, metrics, log);
  Object.assign(handlers, ipam.handlers);
  // Allocation waits until every cache has its first list: truth comes from the pools.
  const synced = (): boolean => pools.isSynced() && subnets.isSynced() && reserved.isSynced() && ipam.isSynced();
  const server: WebhookServer = await startWebhookServer({
    host: config.host,
    port: config.port,
    tls,
    handlers,
    ready: synced,
    metrics,
    log,
    beforeScrape: () => ipam.refreshGauges(),
    posts: { "/v1/allocate": (body, authorization) => ipam.late.handle(body, authorization) },
  });

  const refreshCertificates = async (force?: "serving" | "ca"): Promise<void> => {
    const next = await certificates.reconcile(force);
    if (next.certPem !== served) {
      server.setTls(next);
      served = next.certPem;
      log.info("serving a new certificate");
    }
  };
  let certTimer: NodeJS.Timeout | undefined;
  const scheduleCertCheck = (): void => {
    certTimer = setTimeout(() => {
      refreshCertificates()
        .catch((err: unknown) => log.error({ err }, "certificate check failed"))
        .finally(scheduleCertCheck);
    }, config.tls.checkIntervalMs);
  };
  scheduleCertCheck();

  // Reconcilers run on the leader only; every replica serves admission.
  const reconciler = new PoolReconciler({ pools, subnets, poolApi, subnetApi, log });
  const queue = new WorkQueue("pools", async (key) => {
    const [kind, name] = key.split("/", 2) as [string, string];
    if (kind === "pool") await reconciler.reconcilePool(name);
    else await reconciler.reconcileSubnet(name);
  }, log);
  let leading = false;
  const onPool = (p: SpiderIPPool): void => {
    if (!leading) return;
    queue.add(`pool/${p.metadata.name ?? ""}`);
    for (const s of reconciler.subnetsOfPool(p)) queue.add(`subnet/${s}`);
  };
  const onSubnet = (s: SpiderSubnet): void => {
    if (!leading) return;
    queue.add(`subnet/${s.metadata.name ?? ""}`);
    for (const p of reconciler.poolsOfSubnet(s)) queue.add(`pool/${p}`);
  };
  for (const ev of ["add", "update", "delete"] as const) {
    pools.on(ev, onPool);
    subnets.on(ev, onSubnet);
  }
  const elector = new LeaderElector(
    kc,
    { namespace: config.namespace, name: "spiderpool-controller", identity, leaseDurationSeconds: 15, renewEveryMs: 5000 },
    {
      onStart: () => {
        leading = true;
        ipam.startLeading();
        void Promise.all([pools.synced, subnets.synced]).then(() => {
          for (const p of pools.list()) onPool(p);
          for (const s of subnets.list()) onSubnet(s);
        });
      },
      onStop: () => {
        leading = false;
        ipam.stopLeading();
      },
    },
    log,
  );
  elector.start();

  return {
    port: server.port,
    metrics,
    certificates,
    refreshCertificates,
    isReady: synced,
    isLeader: () => elector.isLeader(),
    settled: async () => {
      await queue.idle();
      await ipam.settled();
    },
    async close() {
      if (certTimer) clearTimeout(certTimer);
      await elector.stop();
      queue.stop();
      await server.close();
      await ipam.stop();
      await Promise.all([pools.stop(), subnets.stop(), reserved.stop()]);
    },
  };
}
