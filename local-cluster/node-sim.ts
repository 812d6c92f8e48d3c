import { CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { startAgent, type Agent } from "../agent/wiring.js";
import { parseAgentConfig } from "../agent/config.js";
import { startInformer, type StartedInformer } from "../k8s/informer.js";
import { MicroTime } from "../k8s/leader.js";
import { isNotFound } from "../k8s/resources.js";
import { WorkQueue } from "../runtime/work-queue.js";
import { REPO_ROOT } from "./binaries.js";
import { cni, DEBIAN_CNI_DIR, type CniOutcome } from "./cni-exec.js";
import { addNetns, delNetns } from "./netns.js";
import { podInterfaces } from "../ipam/annotations/multus.js";
import { nadStore } from "./pods.js";
import type { AgentIdentity } from "./controller.js";

export interface Sandbox {
  uid: string;
  containerID: string;
  netnsName: string;
  netns: string;
  /** eth0's ADD result. */
  result?: CniOutcome;
  /** Every NIC attached, eth0 first, with the network config it was attached with (for DEL). */
  attachments: NetworkAttachment[];
}

/** One NIC of a sandbox: its name and the network config (one plugin, or a list) it came from. */
export interface NetworkAttachment {
  ifName: string;
  config: NetworkConfig;
}

type Plugin = Record<string, unknown> & { type: string };
/** A CNI network config: one plugin, or a list under `plugins`. */
type NetworkConfig = Record<string, unknown> & { name: string; cniVersion: string; plugins?: Plugin[] };

export interface SimNodeOptions {
  kc: KubeConfig;
  name: string;
  labels: Record<string, string>;
  /** The macvlan master on the host (see Underlay.plug). */
  master: string;
  /** Bin dir with the installed spiderpool plugin; Debian's plugins come from /usr/lib/cni. */
  binDir: string;
  socketPath: string;
  log: Logger;
  agentSettings?: Record<string, string>;
  /**
   * The agent's credentials and late-allocation settings for this node (a local controller's
   * agentIdentity: the chart's agent ServiceAccount, its token bound to this Node); the
   * admin of `kc` when absent. The kubelet stand-in always acts as the admin.
   */
  agentIdentity?: (node: string) => Promise<AgentIdentity>;
  /**
   * eth0's network config when another plugin serves it (as Calico would): e.g. macvlan with
   * host-local. Default: the spiderpool macvlan config of docs/examples.
   */
  primary?: NetworkConfig;
  /** Start of every sandbox's network namespace name ("sp" by default): lets a stop command find what a run left. */
  netnsPrefix?: string;
  /** Called after a sandbox is created or destroyed (the local system writes the list for `npm start`'s table). */
  onSandboxesChanged?: () => void;
}

/**
 * A simulated node that does for Pods bound to it what a kubelet does for their network: a
 * network namespace per Pod, Debian's real macvlan plugin with `ipam.type: spiderpool`
 * (which asks this node's real spiderpool-agent), the Pod's status (podIPs, Running), and
 * CNI DEL plus the final delete when the Pod goes. It keeps the Node Ready (status and
 * Lease), so kube-scheduler places Pods on it and kube-controller-manager leaves it alone.
 */
export class SimNode {
  readonly sandboxes = new Map<string, Sandbox>();
  readonly errors = new Map<string, string>();
  agent?: Agent;
  private identity?: AgentIdentity;
  private pods?: StartedInformer<V1Pod>;
  private queue?: WorkQueue;
  private heartbeat?: NodeJS.Timeout;
  private readonly core: CoreV1Api;

  private constructor(readonly o: SimNodeOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
  }

  static async start(o: SimNodeOptions): Promise<SimNode> {
    const n = new SimNode(o);
    await n.register();
    await n.startAgent();
    const byNode = `spec.nodeName=${o.name}`;
    n.pods = startInformer<V1Pod>(o.kc, { name: `pods-${o.name}`, path: "/api/v1/pods", list: async () => (await n.core.listPodForAllNamespaces({ fieldSelector: byNode })), log: o.log, fieldSelector: byNode });
    n.queue = new WorkQueue(`sim-${o.name}`, (key) => n.reconcile(key), o.log, 4, { baseMs: 200, maxMs: 2000, jitter: false });
    const enqueue = (p: V1Pod): void => n.queue?.add(`${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`);
    for (const ev of ["add", "update", "delete"] as const) n.pods.on(ev, enqueue);
    await n.pods.synced;
    return n;
  }

  /**
   * The network config a runtime hands the main plugin: the one plugin of
   * docs/examples/macvlan-spiderpool.conflist with this node's master and agent socket.
   */
  networkConfig(cniVersion = "1.0.0"): object {
    const list = JSON.parse(readFileSync(join(REPO_ROOT, "docs/examples/macvlan-spiderpool.conflist"), "utf8")) as { name: string; plugins: [{ ipam: object }] };
    const plugin = list.plugins[0];
    return { ...plugin, cniVersion, name: list.name, master: this.o.master, ipam: { ...plugin.ipam, ipam_unix_socket_path: this.o.socketPath } };
  }

  async startAgent(): Promise<void> {
    // Asked once: the token stays valid as long as this Node object lives.
    this.identity ??= this.o.agentIdentity ? await this.o.agentIdentity(this.o.name) : { kubeConfig: this.o.kc, settings: {} };
    const config = parseAgentConfig(
      { NODE_NAME: this.o.name, SPIDERPOOL_AGENT_SOCKET: this.o.socketPath, SPIDERPOOL_AGENT_HEALTH_PORT: "0", SPIDERPOOL_LOG_LEVEL: this.o.log.level, ...this.identity.settings, ...this.o.agentSettings },
      [],
    );
    this.agent = await startAgent(config, { kubeConfig: this.identity.kubeConfig, log: this.o.log.child({ agent: this.o.name }) });
  }

  /** The agent's credentials (after start). */
  get agentKubeConfig(): KubeConfig | undefined {
    return this.identity?.kubeConfig;
  }

  async stopAgent(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }

  private async register(): Promise<void> {
    await this.core.deleteNode({ name: this.o.name }).catch(() => undefined);
    await this.core.createNode({ body: { metadata: { name: this.o.name, labels: { ...this.o.labels, "kubernetes.io/hostname": this.o.name } } } });
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((err: unknown) => this.o.log.warn({ err }, "heartbeat failed")), 5000);
  }

  private async beat(): Promise<void> {
    const now = new Date();
    const capacity = { cpu: "32", memory: "64Gi", pods: "110" };
    await this.core.patchNodeStatus(
      {
        name: this.o.name,
        body: {
          status: {
            capacity,
            allocatable: capacity,
            conditions: [{ type: "Ready", status: "True", reason: "SimulatedKubeletReady", message: "simulated by the spiderpool tests", lastHeartbeatTime: now, lastTransitionTime: now }],
            addresses: [{ type: "InternalIP", address: "192.0.2.1" }],
          },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const leases = this.o.kc.makeApiClient(CoordinationV1Api);
    const body = { metadata: { name: this.o.name, namespace: "kube-node-lease" }, spec: { holderIdentity: this.o.name, leaseDurationSeconds: 40, renewTime: new MicroTime() } };
    try {
      const lease = await leases.readNamespacedLease({ name: this.o.name, namespace: "kube-node-lease" });
      await leases.replaceNamespacedLease({ name: this.o.name, namespace: "kube-node-lease", body: { ...body, metadata: { ...body.metadata, resourceVersion: lease.metadata?.resourceVersion } } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await leases.createNamespacedLease({ namespace: "kube-node-lease", body });
    }
  }

  private args(pod: V1Pod, containerID: string): Record<string, string> {
    return {
      IgnoreUnknown: "1",
      K8S_POD_NAMESPACE: pod.metadata?.namespace ?? "",
      K8S_POD_NAME: pod.metadata?.name ?? "",
      K8S_POD_UID: pod.metadata?.uid ?? "",
      K8S_POD_INFRA_CONTAINER_ID: containerID,
    };
  }

  /**
   * The NICs a Pod gets, as Multus gives them: eth0 on the primary network, then one per
   * network its k8s.v1.cni.cncf.io/networks annotation names (net1, net2, … or @name), each
   * from its NetworkAttachmentDefinition with this node's master and agent socket put in.
   */
  async attachmentsOf(pod: V1Pod): Promise<NetworkAttachment[]> {
    const namespace = pod.metadata?.namespace ?? "";
    const first: NetworkAttachment = { ifName: "eth0", config: this.o.primary ? this.onThisNode(this.o.primary) : (this.networkConfig() as NetworkConfig) };
    const rest: NetworkAttachment[] = [];
    for (const nic of podInterfaces(pod.metadata?.annotations, namespace).slice(1)) {
      const ref = nic.network ?? { namespace, name: "" };
      const nad = await nadStore(this.o.kc).get(ref.name, ref.namespace);
      if (!nad?.spec?.config) throw new Error(`network ${ref.namespace}/${ref.name} of pod ${namespace}/${pod.metadata?.name} has no NetworkAttachmentDefinition with a config`);
      rest.push({ ifName: nic.interface, config: this.onThisNode(JSON.parse(nad.spec.config) as NetworkConfig) });
    }
    return [first, ...rest];
  }

  /** A network config with this node's macvlan master and spiderpool socket. */
  private onThisNode(config: NetworkConfig): NetworkConfig {
    const local = (p: Plugin): Plugin => {
      const ipam = p.ipam as Record<string, unknown> | undefined;
      return { ...p, ...(p.master !== undefined ? { master: this.o.master } : {}), ...(ipam?.type === "spiderpool" ? { ipam: { ...ipam, ipam_unix_socket_path: this.o.socketPath } } : {}) };
    };
    return config.plugins ? { ...config, plugins: config.plugins.map(local) } : (local(config as NetworkConfig & Plugin) as unknown as NetworkConfig);
  }

  /** Runs a network config's plugins in order (DEL in reverse), each given the previous result, as libcni does. */
  private async runNetwork(command: "ADD" | "DEL", a: NetworkAttachment, containerID: string, netns: string, args: Record<string, string>): Promise<CniOutcome> {
    const { plugins, ...list } = a.config;
    const chain = plugins ?? [a.config as unknown as Plugin];
    let last: CniOutcome | undefined;
    for (const p of command === "ADD" ? chain : [...chain].reverse()) {
      const prevResult = command === "ADD" ? last?.json : undefined;
      const config = plugins ? { ...p, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) } : p;
      last = await cni({ command, plugin: p.type, binDirs: [this.o.binDir, DEBIAN_CNI_DIR], config, containerID, netns, ifName: a.ifName, args });
      if (last.code !== 0) return last;
    }
    return last as CniOutcome;
  }

  /** CNI ADD of every NIC in a fresh namespace with a fresh sandbox id; the sandbox is kept on success. */
  async createSandbox(key: string, pod: V1Pod): Promise<Sandbox> {
    const uid = pod.metadata?.uid ?? "";
    const containerID = randomBytes(32).toString("hex");
    const netnsName = `${this.o.netnsPrefix ?? "sp"}${createHash("sha256").update(uid + containerID).digest("hex").slice(0, 12)}`;
    const attachments = await this.attachmentsOf(pod);
    const netns = await addNetns(netnsName);
    const results: CniOutcome[] = [];
    for (const a of attachments) {
      const result = await this.runNetwork("ADD", a, containerID, netns, this.args(pod, containerID));
      if (result.code !== 0) {
        await delNetns(netnsName);
        this.errors.set(key, result.stdout || result.stderr);
        throw new Error(`CNI ADD of ${a.ifName} for ${key} failed: ${result.stdout} ${result.stderr.slice(-500)}`);
      }
      results.push(result);
    }
    const sandbox: Sandbox = { uid, containerID, netnsName, netns, result: results[0], attachments };
    this.sandboxes.set(key, sandbox);
    this.o.onSandboxesChanged?.();
    return sandbox;
  }

  /** CNI DEL of every NIC (last first), then the namespace goes; eth0's DEL outcome is returned. */
  async destroySandbox(key: string, pod?: V1Pod): Promise<CniOutcome | undefined> {
    const s = this.sandboxes.get(key);
    if (!s) return undefined;
    const [namespace = "", name = ""] = key.split("/", 2);
    const who = pod ?? ({ metadata: { namespace, name, uid: s.uid } });
    let first: CniOutcome | undefined;
    for (const a of [...s.attachments].reverse()) {
      const result = await this.runNetwork("DEL", a, s.containerID, s.netns, this.args(who, s.containerID));
      if (result.code !== 0) throw new Error(`CNI DEL of ${a.ifName} for ${key} failed: ${result.stdout} ${result.stderr.slice(-500)}`);
      first = result;
    }
    await delNetns(s.netnsName);
    this.sandboxes.delete(key);
    this.o.onSandboxesChanged?.();
    return first;
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/", 2);
    const pod = this.pods?.get(name, namespace);
    const sandbox = this.sandboxes.get(key);
    if (!pod) {
      if (sandbox) await this.destroySandbox(key);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (sandbox) await this.destroySandbox(key, pod);
      // As the kubelet does once the containers are gone: the final, immediate delete. The
      // grace period goes in the body: with a body the apiserver ignores the query parameters,
      // and a delete that keeps the Pod's own grace period changes nothing.
      await this.core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } } }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      return;
    }
    if (sandbox?.uid === pod.metadata?.uid) return;
    if (sandbox) await this.destroySandbox(key);
    const created = await this.createSandbox(key, pod);
    await this.markRunning(pod, created);
  }

  private async markRunning(pod: V1Pod, s: Sandbox): Promise<void> {
    const ips = ((s.result?.json?.ips ?? []) as { address: string }[]).map((i) => i.address.split("/")[0] ?? "");
    const now = new Date();
    const fresh = await this.core.readNamespacedPodStatus({ name: pod.metadata?.name ?? "", namespace: pod.metadata?.namespace ?? "" });
    fresh.status = {
      ...fresh.status,
      phase: "Running",
      hostIP: "192.0.2.1",
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      startTime: now,
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: now })),
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? "", imageID: "", ready: true, restartCount: 0, started: true, state: { running: { startedAt: now } } })),
    };
    await this.core.replaceNamespacedPodStatus({ name: pod.metadata?.name ?? "", namespace: pod.metadata?.namespace ?? "", body: fresh });
  }

  /** Stops watching Pods (a kubelet that died): Pods bound here get no more CNI calls. */
  async stopKubelet(): Promise<void> {
    this.queue?.stop();
    await this.pods?.stop();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.stopKubelet();
    await this.stopAgent();
    for (const s of this.sandboxes.values()) await delNetns(s.netnsName);
    this.sandboxes.clear();
    await this.core.deleteNode({ name: this.o.name }).catch(() => undefined);
  }
}
