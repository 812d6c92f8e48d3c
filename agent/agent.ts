import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { startInformer } from "../k8s/informer.js";
import { PoolWriter, reservedFrom } from "../k8s/pool-writer.js";
import { registerProcessMetrics } from "../k8s/process-metrics.js";
import { CustomResources, isNotFound } from "../k8s/resources.js";
import { createLogger } from "../k8s/log.js";
import type { AgentConfig } from "./config.js";
import { CniService, type PodView } from "./cni-service.js";
import { startLateAllocation } from "./late-allocation.js";
import { startSocketServer } from "./socket-server.js";

export interface Agent {
  readonly healthPort: number;
  readonly registry: Registry;
  isReady(): boolean;
  close(): Promise<void>;
}

/**
 * spiderpool-agent: serves the CNI plugin on this node from the Pods' reservations. It keeps
 * a cache of the Pods on its node (a field-selected informer) and of the pools; it writes
 * nothing but attachments on SpiderEndpoints and, for Pods that vanished without the
 * controller noticing (CNI GC), exact releases.
 */
export async function startAgent(config: AgentConfig, opts: { kubeConfig?: KubeConfig; log?: Logger } = {}): Promise<Agent> {
  const kc = opts.kubeConfig ?? new KubeConfig();
  if (!opts.kubeConfig) {
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromCluster();
  }
  const log = (opts.log ?? createLogger("spiderpool-agent", config.logLevel)).child({ node: config.nodeName });
  const core = kc.makeApiClient(CoreV1Api);
  const byNode = `spec.nodeName=${config.nodeName}`;
  const pods = startInformer<PodView>(kc, "pods", "/api/v1/pods", async () => (await core.listPodForAllNamespaces({ fieldSelector: byNode })) as never, log, { fieldSelector: byNode });
  const poolApi = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  const pools = startInformer(kc, "spiderippools", poolApi.path, () => poolApi.list(), log);
  const reservedApi = new CustomResources<SpiderReservedIP>(kc, RESERVEDIP_PLURAL);
  const reserved = startInformer(kc, "spiderreservedips", reservedApi.path, () => reservedApi.list(), log);
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);

  const registry = new Registry();
  registerProcessMetrics(registry, "spiderpool_agent_");
  const requests = new Counter({ name: "spiderpool_agent_cni_requests_total", help: "CNI requests answered, by command and result.", labelNames: ["command", "result"] as const, registers: [registry] });
  const duration = new Histogram({ name: "spiderpool_agent_cni_request_duration_seconds", help: "Time to answer a CNI request, by command.", labelNames: ["command"] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] });

  const writer = new PoolWriter({
    store: poolApi,
    cached: (n) => pools.get(n),
    reserved: reservedFrom(() => reserved.list(), log),
    now: () => Date.now(),
    coolDownMs: config.coolDownMs,
    log,
  });
  const ready = (): boolean => pods.isSynced() && pools.isSynced() && reserved.isSynced();
  const late = config.controllerUrl ? startLateAllocation(config, log) : undefined;
  const service = new CniService({
    nodeName: config.nodeName,
    pod: async (namespace, name, fresh) => {
      if (!fresh) return pods.get(name, namespace);
      try {
        return (await core.readNamespacedPod({ name, namespace })) as PodView;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    endpoints,
    listEndpoints: async () => (await endpoints.list()).items,
    allocator: writer,
    ...(late ? { lateAllocate: late } : {}),
    endpointWaitMs: config.endpointWaitMs,
    ready,
    log,
  });
  const socket = await startSocketServer(config.socketPath, service, {
    observe: (command, result, seconds) => {
      requests.inc({ command, result });
      duration.observe({ command }, seconds);
    },
  }, log);

  const health: Server = createServer((req, res) => {
    if (req.url === "/healthz") res.writeHead(200).end("ok");
    else if (req.url === "/readyz") res.writeHead(ready() ? 200 : 503).end(ready() ? "ok" : "not ready");
    else if (req.url === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => health.listen(config.healthPort, config.healthHost, resolve));
  const healthPort = (health.address() as AddressInfo).port;
  log.info({ socket: config.socketPath, healthPort }, "spiderpool-agent started");

  return {
    healthPort,
    registry,
    isReady: ready,
    async close() {
      await socket.close();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      await Promise.all([pods.stop(), pools.stop(), reserved.stop()]);
    },
  };
}
