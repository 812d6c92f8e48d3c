import { AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../ipam/kinds/meta.js";
import { pino, type Logger } from "pino";
import { parseControllerConfig, type ControllerConfig } from "../webhook/config.js";
import { startController, type Controller } from "../webhook/wiring.js";
import { webhookConfigurations } from "../webhook/registration.js";
import { localAdmissionClientCaFile } from "./admission-client.js";
import { startBalancer } from "./balancer.js";
import { chartContainer, literalEnv } from "./chart.js";
import { installChartIdentities, serviceAccountToken, tokenKubeConfig, type ChartIdentities } from "./chart-identities.js";
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
  /**
   * Who the controller is to the apiserver: `chart` (default) the chart's controller
   * ServiceAccount with the chart's RBAC, through a token; `admin` the admin of `kc`.
   */
  identity?: "chart" | "admin";
  /** The KubeConfig object the controller's clients are made from (its credentials are set here). */
  controllerKubeConfig?: KubeConfig;
  /** Chart values over values.yaml for identity `chart` (e.g. controller.extraRules, as an operator would set them). */
  chartValues?: object;
}

/** What a node agent of this controller needs: the chart's agent identity and where the controller is. */
export interface AgentIdentity {
  kubeConfig: KubeConfig;
  /** Agent settings (environment names) for late allocation through this controller. */
  settings: Record<string, string>;
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
  /** The chart's identities applied for this controller (undefined with identity `admin`). */
  identities?: ChartIdentities;
  /** What the controller's clients are made from (its credentials). */
  controllerKubeConfig: KubeConfig;
  /**
   * Credentials and settings for a node agent on `node` (an existing Node): a token of the
   * chart's agent ServiceAccount bound to that Node, as the kubelet's projected token is
   * bound to the agent's Pod there; admin credentials with identity `admin`.
   */
  agentIdentity(node: string): Promise<AgentIdentity>;
  /** Kills a replica as a crash would (no lease handed over) and takes it out of the balancer. */
  kill(replica: Controller): Promise<void>;
  /** Starts one more replica behind the balancer (after a kill: the restarted process). */
  addReplica(): Promise<Controller>;
  /** A namespace whose Pods this controller's webhooks see. */
  createPodNamespace(prefix: string, labels?: Record<string, string>, annotations?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/** The controller's settings under the local defaults, as the chart sets them (identity `chart`) or as the admin. */
function localSettings(namespace: string, identity: "chart" | "admin", chartEnv: Record<string, string>): Record<string, string> {
  const asAdmin = {
    SPIDERPOOL_MUTATING_WEBHOOK_CONFIGURATIONS: `${namespace}-mutating`,
    SPIDERPOOL_VALIDATING_WEBHOOK_CONFIGURATIONS: `${namespace}-validating`,
    // The in-process controller talks to the apiserver as the admin of the local cluster.
    SPIDERPOOL_SYSTEM_USERS: "local-admin",
  };
  return {
    ...(identity === "chart" ? chartEnv : asAdmin),
    SPIDERPOOL_NAMESPACE: namespace,
    SPIDERPOOL_WEBHOOK_HOST: "127.0.0.1",
    SPIDERPOOL_WEBHOOK_PORT: "0",
    SPIDERPOOL_TLS_EXTRA_IPS: "127.0.0.1",
    SPIDERPOOL_LOG_LEVEL: "error",
    // Registered here instead, scoped to this controller's objects.
    SPIDERPOOL_REGISTER_WEBHOOKS: "false",
  };
}

interface Identities {
  /** What the controller's clients are made from. */
  controllerKc: KubeConfig;
  /** The chart Deployment's literal settings (empty with identity `admin`). */
  chartEnv: Record<string, string>;
  chart?: ChartIdentities;
}

/**
 * The controller's credentials: the chart's ServiceAccount (its RBAC applied from the chart
 * rendered for release `namespace`, a token in `into`), or the admin's.
 */
async function controllerIdentity(kc: KubeConfig, namespace: string, o: LocalControllerOptions): Promise<Identities> {
  if (o.identity === "admin") {
    const controllerKc = o.controllerKubeConfig ?? kc;
    if (o.controllerKubeConfig) controllerKc.loadFromString(kc.exportConfig());
    return { controllerKc, chartEnv: {} };
  }
  const chart = await installChartIdentities(kc, { release: namespace, namespace, ...(o.chartValues ? { values: o.chartValues } : {}) });
  const chartEnv = literalEnv(chartContainer(chart.rendered, "controller"));
  const token = await serviceAccountToken(kc, namespace, chart.controller.serviceAccount);
  return { controllerKc: tokenKubeConfig(kc, token, o.controllerKubeConfig), chartEnv, chart };
}

/** The agent side of a local controller: credentials per node and the late-allocation settings. */
function agentIdentities(kc: KubeConfig, c: { ids: Identities; config: ControllerConfig; port: () => number }): { of: (node: string) => Promise<AgentIdentity>; remove: () => void } {
  let dir: string | undefined;
  const of = async (node: string): Promise<AgentIdentity> => {
    const agent = c.ids.chart?.agent;
    // As the admin (benchmarks): no agent identity to give, so no late allocation either.
    if (!agent) return { kubeConfig: kc, settings: {} };
    dir ??= mkdtempSync(join(tmpdir(), "spiderpool-agent-identity-"));
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: c.config.tls.secretName, namespace: c.config.namespace });
    const caFile = join(dir, "ca.crt");
    writeFileSync(caFile, Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64"));
    const token = await serviceAccountToken(kc, c.config.namespace, agent.serviceAccount, node);
    // Late allocation takes a token issued for the controller's audience, bound to the node.
    const tokenFile = join(dir, `${node}.token`);
    writeFileSync(tokenFile, await serviceAccountToken(kc, c.config.namespace, agent.serviceAccount, node, [c.config.ipam.agentAudience]), { mode: 0o600 });
    const kubeConfig = tokenKubeConfig(kc, token);
    const settings = { SPIDERPOOL_CONTROLLER_URL: `https://127.0.0.1:${c.port()}`, SPIDERPOOL_CONTROLLER_CA_FILE: caFile, SPIDERPOOL_CONTROLLER_TOKEN_FILE: tokenFile };
    return { kubeConfig, settings };
  };
  return { of, remove: () => dir && rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs spiderpool-controller replicas in this process against a local control plane,
 * registered through clientConfig.url (https://127.0.0.1:<port>) with the caBundle the
 * controller generates and publishes itself. The webhooks only see objects labelled with
 * this controller's id, so several controllers (test files, benchmarks) share one control
 * plane without seeing each other's objects. By default the controller runs as the chart's
 * ServiceAccount, with the chart's RBAC and the chart's settings.
 */
export async function startLocalController(kc: KubeConfig, o: LocalControllerOptions): Promise<LocalController> {
  const { prefix, settings = {}, clusterConfig, replicas: replicaCount = 1 } = o;
  const namespace = await createNamespace(kc, `${prefix}-system`);
  if (clusterConfig !== undefined) {
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace, body: { metadata: { name: "spiderpool-conf" }, data: { "conf.yml": clusterConfig } } });
  }
  const id = namespace;
  const ids = await controllerIdentity(kc, namespace, o);
  // Admission calls are answered only when they come from this control plane's apiserver.
  const admissionCa = settings.SPIDERPOOL_ADMISSION_CLIENT_CA_FILE ?? (await localAdmissionClientCaFile(kc));
  const config = parseControllerConfig(
    { ...localSettings(namespace, o.identity ?? "chart", ids.chartEnv), SPIDERPOOL_METRICS_PORT: "0", SPIDERPOOL_ADMISSION_CLIENT_CA_FILE: admissionCa, ...settings },
    [],
  );
  const names = { mutating: config.webhookConfigurations.mutating[0] ?? "", validating: config.webhookConfigurations.validating[0] ?? "" };
  const log = pino({ level: config.logLevel, base: { controller: prefix } });
  const replicas: Controller[] = [];
  // Replicas one after the other: the first creates the certificate Secret, the rest adopt it.
  const start = replicaStarter(ids.controllerKc, config, log, id);
  for (let i = 0; i < replicaCount; i++) replicas.push(await start());
  const controller = replicas[0] as Controller;
  const balancer = replicaCount > 1 ? await startBalancer(replicas.map((r) => r.port)) : undefined;
  const labels = { [SCOPE_LABEL]: id };
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await registerScoped(kc, { config, names, labels, port: balancer?.port ?? controller.port });
  // Publish the CA into the configurations just created, rather than waiting for the timer.
  await controller.refreshCertificates();
  await waitFor("controller caches synced", () => Promise.resolve(replicas.every((r) => r.isReady())));
  await waitForWebhook(kc, id, labels);
  const agents = agentIdentities(kc, { ids, config, port: () => balancer?.port ?? controller.port });

  return {
    controller,
    replicas,
    config,
    namespace,
    labels,
    names,
    ...(ids.chart ? { identities: ids.chart } : {}),
    controllerKubeConfig: ids.controllerKc,
    agentIdentity: agents.of,
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
      await ids.chart?.remove();
      agents.remove();
    },
  };
}

/** The controller's webhook configurations, reached at 127.0.0.1 and scoped to objects labelled for it. */
async function registerScoped(kc: KubeConfig, c: { config: ControllerConfig; names: { mutating: string; validating: string }; labels: Record<string, string>; port: number }): Promise<void> {
  const [mutating, validating] = webhookConfigurations({
    mutatingName: c.names.mutating,
    validatingName: c.names.validating,
    endpoint: { url: `https://127.0.0.1:${c.port}` },
    failurePolicy: "Fail",
    objectSelector: { matchLabels: c.labels },
    excludedNamespaces: c.config.ipam.excludedNamespaces,
    primaryNetwork: c.config.ipam.primaryNetwork,
    // Pods are judged only in namespaces labelled for this controller (see createPodNamespace).
    podNamespaceSelector: { matchLabels: c.labels },
  });
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({ body: mutating });
  await admission.createValidatingWebhookConfiguration({ body: validating });
}

async function waitForWebhook(kc: KubeConfig, id: string, labels: Record<string, string>): Promise<void> {
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
