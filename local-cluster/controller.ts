import { AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../ipam/kinds/meta.js";
import { pino, type Logger } from "pino";
import { parseControllerConfig, type ControllerConfig } from "../webhook/config.js";
import { startController, type Controller } from "../webhook/wiring.js";
import { webhookConfigurations } from "../webhook/registration.js";
import { localAdmissionClientCaFile } from "./admission-client.js";
import { startBalancer } from "./balancer.js";
import { createNamespace, isStatus, waitFor } from "./kube.js";

/** Objects and namespaces carrying this label (valued with the controller's id) are under its webhooks. */
export const SCOPE_LABEL = "spiderpool.local/controller";

export interface LocalControllerOptions {
  /** Prefix of the controller's namespace, whose name is also its id. */
  prefix: string;
  /** Controller settings (environment names) over the local defaults. */
  settings?: Record<string, string>;
  /** conf.yml of the spiderpool-conf ConfigMap, when the cluster configuration matters. */
  clusterConfig?: string;
  /** Replicas behind a round-robin balancer, as behind a Service; 1 by default. */
  replicas?: number;
}

export interface LocalController {
  /** The first replica (the others, if any, are in `replicas`). */
  controller: Controller;
  replicas: Controller[];
  config: ControllerConfig;
  namespace: string;
  /** Label objects with this to put them under this controller's webhooks. */
  labels: Record<string, string>;
  names: { mutating: string; validating: string };
  /** Kills a replica as a crash would (no lease handed over) and takes it out of the balancer. */
  kill(replica: Controller): Promise<void>;
  /** Starts one more replica behind the balancer (after a kill: the restarted process). */
  addReplica(): Promise<Controller>;
  /** A namespace whose Pods this controller's webhooks see. */
  createPodNamespace(prefix: string, labels?: Record<string, string>, annotations?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs spiderpool-controller replicas in this process against a local control plane,
 * registered through clientConfig.url (https://127.0.0.1:<port>) with the caBundle the
 * controller generates and publishes itself. The webhooks only see objects labelled with
 * this controller's id, so several controllers (test files, benchmarks) share one control
 * plane without seeing each other's objects.
 */
export async function startLocalController(kc: KubeConfig, o: LocalControllerOptions): Promise<LocalController> {
  const { prefix, settings = {}, clusterConfig, replicas: replicaCount = 1 } = o;
  const namespace = await createNamespace(kc, `${prefix}-system`);
  if (clusterConfig !== undefined) {
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace, body: { metadata: { name: "spiderpool-conf" }, data: { "conf.yml": clusterConfig } } });
  }
  const id = namespace;
  const names = { mutating: `${id}-mutating`, validating: `${id}-validating` };
  // Admission calls are answered only when they come from this control plane's apiserver.
  const admissionCa = settings.SPIDERPOOL_ADMISSION_CLIENT_CA_FILE ?? (await localAdmissionClientCaFile(kc));
  const config = parseControllerConfig(
    {
      SPIDERPOOL_NAMESPACE: namespace,
      SPIDERPOOL_WEBHOOK_HOST: "127.0.0.1",
      SPIDERPOOL_WEBHOOK_PORT: "0",
      SPIDERPOOL_METRICS_PORT: "0",
      SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: admissionCa,
      SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1",
      SPIDERPOOL_MUTATING_WEBHOOK_CONFIGURATIONS: names.mutating,
      SPIDERPOOL_VALIDATING_WEBHOOK_CONFIGURATIONS: names.validating,
      SPIDERPOOL_LOG_LEVEL: "error",
      // The in-process controller talks to the apiserver as the admin of the local cluster.
      SPIDERPOOL_SYSTEM_USERS: "local-admin",
      // Registered here instead, scoped to this controller's objects.
      SPIDERPOOL_REGISTER_WEBHOOKS: "false",
      ...settings,
    },
    [],
  );
  const log = pino({ level: config.logLevel, base: { controller: prefix } });
  const replicas: Controller[] = [];
  // Replicas one after the other: the first creates the certificate Secret, the rest adopt it.
  const start = replicaStarter(kc, config, log, id);
  for (let i = 0; i < replicaCount; i++) replicas.push(await start());
  const controller = replicas[0] as Controller;
  const balancer = replicaCount > 1 ? await startBalancer(replicas.map((r) => r.port)) : undefined;
  const labels = { [SCOPE_LABEL]: id };
  const [mutating, validating] = webhookConfigurations({
    mutatingName: names.mutating,
    validatingName: names.validating,
    endpoint: { url: `https://127.0.0.1:${balancer?.port ?? controller.port}` },
    failurePolicy: "Fail",
    objectSelector: { matchLabels: labels },
    excludedNamespaces: config.ipam.excludedNamespaces,
    primaryNetwork: config.ipam.primaryNetwork,
    // Pods are judged only in namespaces labelled for this controller (see createPodNamespace).
    podNamespaceSelector: { matchLabels: labels },
  });
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({ body: mutating });
  await admission.createValidatingWebhookConfiguration({ body: validating });
  // Publish the CA into the configurations just created, rather than waiting for the timer.
  await controller.refreshCertificates();
  await waitFor("controller caches synced", () => Promise.resolve(replicas.every((r) => r.isReady())));
  await waitFor("the apiserver to call the webhook with the published CA", async () => {
    // A server-side dry run reserves nothing; the defaulted ipVersion shows the webhook ran.
    const probe = (await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: IPPOOL_PLURAL,
      dryRun: "All",
      body: { apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name: `${id}-probe`, labels }, spec: { subnet: "192.0.2.0/24" } },
    })) as SpiderIPPool;
    return probe.spec.ipVersion === 4;
  });

  return {
    controller,
    replicas,
    config,
    namespace,
    labels,
    names,
    ...replicaControl(replicas, start, balancer),
    async createPodNamespace(prefix, extraLabels = {}, annotations = {}) {
      return createNamespace(kc, prefix, { ...labels, ...extraLabels }, annotations);
    },
    async stop() {
      await admission.deleteMutatingWebhookConfiguration({ name: names.mutating }).catch(ignore404);
      await admission.deleteValidatingWebhookConfiguration({ name: names.validating }).catch(ignore404);
      await balancer?.close();
      for (const r of replicas) await r.close();
      await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(ignore404);
    },
  };
}

/** Starts replica after replica of one controller, each with its own identity. */
function replicaStarter(kc: KubeConfig, config: ControllerConfig, log: Logger, id: string): () => Promise<Controller> {
  let started = 0;
  return () => {
    const i = started++;
    return startController(config, { kubeConfig: kc, log: log.child({ replica: i }), identity: `${id}-${i}` });
  };
}

/** Killing and adding replicas behind the balancer, for failover tests. */
function replicaControl(replicas: Controller[], start: () => Promise<Controller>, balancer: { setBackends(ports: number[]): void } | undefined): Pick<LocalController, "kill" | "addReplica"> {
  return {
    async kill(replica) {
      replicas.splice(replicas.indexOf(replica), 1);
      balancer?.setBackends(replicas.map((r) => r.port));
      await replica.kill();
    },
    async addReplica() {
      const r = await start();
      replicas.push(r);
      balancer?.setBackends(replicas.map((x) => x.port));
      await waitFor("the new replica's caches synced", () => Promise.resolve(r.isReady()));
      return r;
    },
  };
}

function ignore404(err: unknown): void {
  if (!isStatus(err, 404)) throw err;
}
