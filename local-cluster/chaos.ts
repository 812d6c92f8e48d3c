import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { parseAgentConfig } from "../agent/config.js";
import { startAgent, type Agent } from "../agent/wiring.js";
import { heldAddresses } from "../ipam/allocation/usage.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { ConsistencyReport } from "../ipam/lifecycle/consistency.js";
import { CustomResources } from "../k8s/resources.js";
import { KWOK_NODE_ANNOTATION, restartApiserver, type ClusterState } from "./cluster.js";
import { waitConsistent } from "./consistency.js";
import { startLocalController, type LocalController } from "./controller.js";
import { waitFor } from "./kube.js";
import { createPool, podSpec } from "./pods.js";

export interface ChaosOptions {
  kc: KubeConfig;
  state: ClusterState;
  /** Pods to create in all (Deployments', StatefulSets' and bare ones), over `waves` waves. */
  pods: number;
  waves: number;
  /** Controller replicas killed (and replaced) at random moments. */
  kills: number;
  log: Logger;
  /** Settings of the controller under test, over the fast leader timings of the run. */
  settings?: Record<string, string>;
}

export interface ChaosResult {
  podsCreated: number;
  controllerKills: number;
  agentRestarts: number;
  apiserverRestarts: number;
  seconds: number;
  /** From the end of the last deletion to the checker's 0 / 0 / 0. */
  settleSeconds: number;
  /** Bound addresses no endpoint recorded, released by the full scan asked for at the end (the event path's misses). */
  orphansAtEnd: number;
  report: ConsistencyReport;
}

const POOL = "chaos-pool";
const onPool = { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [POOL] }) };
/** The run's kwok nodes carry this label (valued with the run's namespace) and its Pods select it. */
const NODE_LABEL = "spiderpool.local/chaos";
const template = (app: string, run: string) => ({ metadata: { labels: { app }, annotations: onPool }, spec: { nodeSelector: { [NODE_LABEL]: run }, containers: [{ name: "c", image: "example.invalid/c:1" }] } });

/** A call the apiserver or the webhook may refuse for a moment (a restart, a killed replica): tried again. */
async function persist<T>(what: string, call: () => Promise<T>): Promise<T> {
  return waitFor(what, async () => {
    try {
      return { v: await call() };
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 409 || code === 404) return { v: undefined as T };
      throw err;
    }
  }, 120_000, 300).then((r) => r.v);
}

/** One wave: a Deployment, a StatefulSet and bare Pods, about `n` Pods in all. */
async function createWave(kc: KubeConfig, ns: string, wave: number, n: number, run: string): Promise<number> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const third = Math.max(1, Math.floor(n / 3));
  const d = `web-${wave}`;
  const s = `db-${wave}`;
  await persist(`deployment ${d}`, () => apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: d }, spec: { replicas: third, selector: { matchLabels: { app: d } }, template: template(d, run) } } }));
  await persist(`statefulset ${s}`, () =>
    apps.createNamespacedStatefulSet({ namespace: ns, body: { metadata: { name: s }, spec: { replicas: third, podManagementPolicy: "Parallel", serviceName: s, selector: { matchLabels: { app: s } }, template: template(s, run) } } }),
  );
  const bare = n - 2 * third;
  for (let i = 0; i < bare; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, bare - i) }, (_, k) => persist(`pod bare-${wave}-${i + k}`, () => core.createNamespacedPod({ namespace: ns, body: podSpec(`bare-${wave}-${i + k}`, onPool, { nodeSelector: { [NODE_LABEL]: run } }) }))));
  }
  return 2 * third + bare;
}

/** Deletes a wave's workloads (their Pods go with them). */
async function deleteWave(kc: KubeConfig, ns: string, wave: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  await persist(`delete deployment web-${wave}`, () => apps.deleteNamespacedDeployment({ name: `web-${wave}`, namespace: ns, propagationPolicy: "Background" }));
  await persist(`delete statefulset db-${wave}`, () => apps.deleteNamespacedStatefulSet({ name: `db-${wave}`, namespace: ns, propagationPolicy: "Background" }));
  const bare = (await persist("list bare pods", () => core.listNamespacedPod({ namespace: ns }))).items.filter((p) => p.metadata?.name?.startsWith(`bare-${wave}-`));
  await Promise.all(bare.map((p) => persist(`delete ${p.metadata?.name}`, () => core.deleteNamespacedPod({ name: p.metadata?.name ?? "", namespace: ns, gracePeriodSeconds: 0 }))));
}

/** The disturbances: controller replicas killed and replaced, an agent restarted, the apiserver restarted, at random moments. */
class Disturbances {
  kills = 0;
  agentRestarts = 0;
  apiserverRestarts = 0;
  private agent?: Agent;
  private nodeName = "";

  constructor(private readonly o: ChaosOptions, private readonly tc: LocalController) {}

  async startAgent(node: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "spiderpool-chaos-agent-"));
    // As the chart's agent ServiceAccount, its token bound to the node (as on a real node).
    const identity = await this.tc.agentIdentity(node);
    const config = parseAgentConfig({ NODE_NAME: node, SPIDERPOOL_AGENT_SOCKET: join(dir, "agent.sock"), SPIDERPOOL_AGENT_HEALTH_PORT: "0", SPIDERPOOL_LOG_LEVEL: this.o.log.level, ...identity.settings }, []);
    this.agent = await startAgent(config, { kubeConfig: identity.kubeConfig, log: this.o.log.child({ agent: node }) });
    this.nodeName = node;
  }

  async killReplica(): Promise<void> {
    const victim = this.tc.replicas[Math.floor(Math.random() * this.tc.replicas.length)];
    if (!victim) return;
    await this.tc.kill(victim);
    this.kills++;
    await this.tc.addReplica();
  }

  async restartAgent(): Promise<void> {
    await this.agent?.close();
    await this.startAgent(this.nodeName);
    this.agentRestarts++;
  }

  async restartApiserver(): Promise<void> {
    await restartApiserver(this.o.state);
    this.apiserverRestarts++;
  }

  async stop(): Promise<void> {
    await this.agent?.close();
  }
}

/** What the waves do, disturbed at random moments: returns the Pods created. */
async function churn(o: ChaosOptions, ns: string, run: string, chaos: Disturbances): Promise<number> {
  const per = Math.ceil(o.pods / o.waves);
  const killAt = new Set(Array.from({ length: o.kills }, () => Math.floor(Math.random() * o.waves * 2)));
  let created = 0;
  for (let step = 0; step < o.waves * 2; step++) {
    const wave = Math.floor(step / 2);
    const disturb = killAt.has(step) ? chaos.killReplica() : Promise.resolve();
    if (step % 2 === 0) created += await createWave(o.kc, ns, wave, Math.min(per, o.pods - created), run);
    else if (wave > 0) await deleteWave(o.kc, ns, wave - 1);
    if (step === o.waves) await chaos.restartApiserver();
    if (step === o.waves + 1) await chaos.restartAgent();
    await disturb;
    await sleep(200 + Math.random() * 800);
  }
  for (let k = chaos.kills; k < o.kills; k++) await chaos.killReplica();
  await deleteWave(o.kc, ns, o.waves - 1);
  return created;
}

/** How many addresses the run's pool holds, pending or bound. */
async function poolHeld(kc: KubeConfig): Promise<number> {
  const pool = await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get(POOL);
  return pool ? Number(heldAddresses(pool).size()) : 0;
}

/** A full scan on demand on the leader, as an operator would ask for it; returns the orphans it released. */
async function scanOnLeader(tc: LocalController): Promise<number> {
  const orphans = async (): Promise<number> => {
    let n = 0;
    for (const r of tc.replicas) {
      const m = await r.metrics.gc.get();
      n += m.values.filter((v) => v.labels.reason === "orphaned").reduce((a, v) => a + v.value, 0);
    }
    return n;
  };
  const before = await orphans();
  const leader = await waitFor("a leader", () => Promise.resolve(tc.replicas.find((r) => r.isLeader())), 60_000);
  // Two passes: an orphan is released by the pass after the one that first found it.
  await leader.scan();
  await leader.scan();
  return (await orphans()) - before;
}

/**
 * The chaos run (docs/reliability.md): waves of Deployments, StatefulSets and bare Pods
 * created and deleted on kwok nodes while controller replicas are killed at random moments,
 * an agent is restarted and the apiserver is restarted once; at the end the consistency
 * checker must report 0 leaked, 0 missing, 0 duplicates for the run's pool.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const tc = await startLocalController(o.kc, {
    prefix: "chaos",
    replicas: 2,
    // A short reservation lifetime: reservations of Pods deleted before they were bound come back within seconds.
    settings: { SPIDERPOOL_LOG_LEVEL: o.log.level, SPIDERPOOL_RESERVATION_TTL_MS: "15000", SPIDERPOOL_LEADER_LEASE_MS: "3000", SPIDERPOOL_LEADER_RENEW_DEADLINE_MS: "2000", SPIDERPOOL_LEADER_RETRY_PERIOD_MS: "500", ...o.settings },
  });
  const core = o.kc.makeApiClient(CoreV1Api);
  const nodes = Array.from({ length: 3 }, (_, i) => `${tc.namespace}-kwok-${i}`);
  const chaos = new Disturbances(o, tc);
  try {
    for (const name of nodes) await core.createNode({ body: { metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: "fake" }, labels: { type: "kwok", [NODE_LABEL]: tc.namespace } } } });
    await createPool(o.kc, tc.labels, POOL, { subnet: "10.90.0.0/16", ips: ["10.90.0.10-10.90.255.250"] });
    const ns = await tc.createPodNamespace("chaos");
    await chaos.startAgent(nodes[0] ?? "");
    const podsCreated = await churn(o, ns, tc.namespace, chaos);
    await waitFor("every chaos Pod gone", async () => (await core.listNamespacedPod({ namespace: ns })).items.length === 0, 300_000, 1000);
    const gone = Date.now();
    const orphansAtEnd = await scanOnLeader(tc);
    const report = await waitConsistent(o.kc, tc.labels, 180_000);
    // Every Pod is gone: every address must come back, pending reservations included.
    await waitFor("the chaos pool to hold nothing", async () => (await poolHeld(o.kc)) === 0, 120_000, 1000);
    return { podsCreated, controllerKills: chaos.kills, agentRestarts: chaos.agentRestarts, apiserverRestarts: chaos.apiserverRestarts, seconds: (Date.now() - started) / 1000, settleSeconds: (Date.now() - gone) / 1000, orphansAtEnd, report };
  } finally {
    await chaos.stop();
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    await tc.stop();
  }
}
