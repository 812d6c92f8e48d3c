import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { AGENT_PATHS } from "../cni/protocol.js";
import { COORDINATOR_PLURAL, type SpiderCoordinator } from "../ipam/kinds/coordinator.js";
import { ENDPOINT_NODE_FIELD, ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { reservedFrom } from "../ipam/lifecycle/pool-commit.js";
import { PoolWriter } from "../ipam/lifecycle/pool-writer.js";
import { startInformer } from "../k8s/informer.js";
import { reuseConnections } from "../k8s/connections.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { CustomResources, isNotFound } from "../k8s/resources.js";
import { systemClock } from "../runtime/clock.js";
import { createLogger } from "../runtime/log.js";
import type { AgentConfig } from "./config.js";
import { ANSWERS_DIR_SUFFIX, SPOOL_DIR_SUFFIX } from "../cni/protocol.js";
import { AnswerFiles } from "./answer-files.js";
import { fileJournal } from "./attachment-journal.js";
import { AttachmentSpool } from "./attachment-spool.js";
import { AttachmentRecorder } from "./attachments.js";
import { CniService } from "./cni-service.js";
import { coordinatorConfigAnswer } from "./coordinator-config.js";
import { startLateAllocation } from "./late-allocation.js";
import { AgentMetrics } from "./metrics.js";
import { startSocketServer } from "./socket-server.js";
import { acquireSocketLock } from "./socket-lock.js";

/** How long close() waits for answered ADDs' attachment writes. */
const CLOSE_WAIT_MS = 5_000;

export interface Agent {
  readonly healthPort: number;
  readonly registry: Registry;
  isReady(): boolean;
  close(): Promise<void>;
}

/** /healthz, /readyz and /metrics on their own port (never on the CNI socket). */
async function startHealthServer(config: AgentConfig, ready: () => boolean, registry: Registry): Promise<Server> {
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
  return health;
}

/** The agent's caches: its node's Pods and SpiderEndpoints (field-selected), pools, reserved addresses, coordinator defaults. */
function startAgentInformers(kc: KubeConfig, config: AgentConfig, log: Logger) {
  const core = kc.makeApiClient(CoreV1Api);
  const byNode = `spec.nodeName=${config.nodeName}`;
  const poolApi = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  const reservedApi = new CustomResources<SpiderReservedIP>(kc, RESERVEDIP_PLURAL);
  const coordinatorApi = new CustomResources<SpiderCoordinator>(kc, COORDINATOR_PLURAL);
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
  // This node's endpoints only (the CRD's selectable field). On an apiserver without field
  // selectors for custom resources (before 1.31) this never syncs and ADD reads each record live.
  const onNode = `${ENDPOINT_NODE_FIELD.slice(1)}=${config.nodeName}`;
  return {
    core,
    poolApi,
    endpoints,
    pods: startInformer<PodLike>(kc, { name: "pods", path: "/api/v1/pods", list: async () => (await core.listPodForAllNamespaces({ fieldSelector: byNode })) as never, log, fieldSelector: byNode }),
    pools: startInformer(kc, { name: "spiderippools", path: poolApi.path, list: () => poolApi.list(), log }),
    reserved: startInformer(kc, { name: "spiderreservedips", path: reservedApi.path, list: () => reservedApi.list(), log }),
    coordinators: startInformer(kc, { name: "spidercoordinators", path: coordinatorApi.path, list: () => coordinatorApi.list(), log }),
    endpointCache: startInformer(kc, { name: "spiderendpoints", path: endpoints.path, list: () => endpoints.list({ fieldSelector: onNode }), log, fieldSelector: onNode }),
  };
}

type AgentInformers = ReturnType<typeof startAgentInformers>;

/** ADD's fast path (docs/cni.md): answer files the plugin reads, notes it leaves in the spool. */
function startFastPath(config: AgentConfig, i: AgentInformers, attachments: AttachmentRecorder, metrics: AgentMetrics, log: Logger): { spool: AttachmentSpool; answerFiles: AnswerFiles } {
  const spool = new AttachmentSpool(`${config.socketPath}${SPOOL_DIR_SUFFIX}`, attachments, log, config.maxBodyBytes, () => metrics.answerFileAdds.inc());
  const answerFiles = new AnswerFiles({ dir: `${config.socketPath}${ANSWERS_DIR_SUFFIX}`, nodeName: config.nodeName, pods: i.pods, endpoints: i.endpointCache, log });
  for (const informer of [i.pods, i.endpointCache] as const) {
    for (const event of ["add", "update", "delete"] as const) {
      informer.on(event, (o: { metadata?: { namespace?: string; name?: string } }) => answerFiles.refresh(o.metadata?.namespace ?? "", o.metadata?.name ?? ""));
    }
  }
  void Promise.all([i.pods.synced, i.endpointCache.synced]).then(() => answerFiles.refreshAll());
  spool.start();
  return { spool, answerFiles };
}

/**
 * spiderpool-agent, wired in one place: serves the CNI plugin on this node from the Pods'
 * reservations. It caches the Pods and SpiderEndpoints of its node (field-selected
 * informers), the pools and the reserved addresses; it writes nothing but attachments on
 * SpiderEndpoints (after answering, journaled) and, for Pods that vanished without the
 * controller noticing (CNI GC), exact releases.
 */
export async function startAgent(config: AgentConfig, opts: { kubeConfig?: KubeConfig; log?: Logger } = {}): Promise<Agent> {
  const kc = reuseConnections(opts.kubeConfig ?? loadKubeConfig(config));
  const log = (opts.log ?? createLogger("spiderpool-agent", config.logLevel)).child({ node: config.nodeName });
  const i = startAgentInformers(kc, config, log);
  const { core, poolApi, endpoints, pods, pools, reserved, coordinators, endpointCache } = i;
  const metrics = new AgentMetrics(true);
  const ready = (): boolean => pods.isSynced() && pools.isSynced() && reserved.isSynced();
  // Health first: a surge update's new agent must become Ready while the old one still holds
  // the socket, or the old one is never stopped. Then the socket's lock, before anything
  // beside the socket (journal, answer files, spool) is touched.
  const health = await startHealthServer(config, ready, metrics.registry);
  const lock = await acquireSocketLock(config.socketPath, { clock: systemClock, log, waitMs: 0 });
  const attachments = new AttachmentRecorder({
    endpoints,
    journal: fileJournal(config.attachmentJournal, log),
    clock: systemClock,
    log,
    defer: (fn) => setImmediate(fn),
    onPending: (n) => metrics.attachmentWritesPending.set(n),
  });
  attachments.replay();
  const { spool, answerFiles } = startFastPath(config, i, attachments, metrics, log);

  const writer = new PoolWriter({ store: poolApi, cached: (n) => pools.get(n), reserved: reservedFrom(() => reserved.list(), log), clock: systemClock, coolDownMs: config.coolDownMs, log });
  const late = config.controllerUrl ? startLateAllocation(config, log) : undefined;
  const service = new CniService({
    nodeName: config.nodeName,
    pod: async (namespace, name, fresh) => {
      if (!fresh) return pods.get(name, namespace);
      try {
        return (await core.readNamespacedPod({ name, namespace })) as PodLike;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    endpoints,
    endpointCache,
    onRecordLook: (source) => metrics.recordLooks.inc({ source }),
    drainSpool: () => spool.drain(),
    attachments,
    listEndpoints: async () => (await endpoints.list()).items,
    allocator: writer,
    ...(late ? { lateAllocate: late } : {}),
    endpointWaitMs: config.endpointWaitMs,
    clock: systemClock,
    ready,
    log,
  });
  // The coordinator plugin's question; its cache does not hold up the IPAM plugin's readiness.
  const coordinatorConfig = { coordinators, pods, ready: () => pods.isSynced() && coordinators.isSynced() };
  const socket = await startSocketServer(config.socketPath, service, metrics, log, {
    routes: { [`POST ${AGENT_PATHS.coordinator}`]: (input) => Promise.resolve(coordinatorConfigAnswer(coordinatorConfig, input)) },
    lock,
    maxBodyBytes: config.maxBodyBytes,
  });
  const healthPort = (health.address() as AddressInfo).port;
  log.info({ socket: config.socketPath, healthPort }, "spiderpool-agent started");

  return {
    healthPort,
    registry: metrics.registry,
    isReady: ready,
    async close() {
      answerFiles.clear();
      await socket.close();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      spool.stop();
      // Answered ADDs' writes land before the agent goes, if the apiserver lets them within
      // a few seconds; what is left stays in the journal for the next agent.
      await Promise.race([attachments.idle(), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
      await Promise.all([pods.stop(), pools.stop(), reserved.stop(), endpointCache.stop(), coordinators.stop()]);
      // Last: the next agent may now take the socket, the journal and the spool.
      await lock.release();
    },
  };
}
