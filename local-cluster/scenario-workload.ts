import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { ANNO_ASSIGNED_IPS } from "../ipam/annotations/keys.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { startInformer } from "../k8s/informer.js";
import { trimPod } from "../k8s/trim.js";
import type { Log } from "../ipam/ports.js";
import { KWOK_NODE_ANNOTATION } from "./cluster.js";
import { retry, type RetryPolicy } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";
import { waitFor } from "./kube.js";

/** Scenario nodes carry this label (valued with the run's id); the workload's Pods select it. */
export const SCENARIO_NODE_LABEL = "spiderpool.local/scenario";

/** Creates `count` kwok nodes for run `id` and waits until kwok reports them Ready. */
export async function scenarioNodes(kc: KubeConfig, id: string, count: number): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const names = Array.from({ length: count }, (_, i) => `${id}-kwok-${i}`);
  for (const name of names) {
    await core.createNode({ body: { metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: "fake" }, labels: { [SCENARIO_NODE_LABEL]: id, "kubernetes.io/hostname": name } } } });
  }
  await waitFor(`${count} kwok nodes Ready`, async () => {
    const list = await core.listNode({ labelSelector: `${SCENARIO_NODE_LABEL}=${id}` });
    return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length === count;
  }, 120_000);
  return names;
}

export async function deleteScenarioNodes(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) await core.deleteNode({ name }).catch(() => undefined);
}

/** One wave of the workload: `deployments` Deployments of `replicas` each, named `<wave>-<i>`, on the run's nodes. */
export interface Wave {
  namespace: string;
  wave: string;
  deployments: number;
  replicas: number;
  /** The Pod template's annotations (which pool, subnet or none). */
  annotations: Record<string, string>;
  /** The run's id: its Pods only go to its nodes. */
  nodes: string;
}

function deployment(w: Wave, i: number): V1Deployment {
  const labels = { app: `${w.wave}-${i}`, wave: w.wave };
  return {
    metadata: { name: `${w.wave}-${i}` },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: w.annotations },
        spec: { nodeSelector: { [SCENARIO_NODE_LABEL]: w.nodes }, containers: [{ name: "c", image: "example.invalid/c:1" }] },
      },
    },
  };
}

/** A refused create is tried again, as a deployment pipeline would, within about a minute. */
const CREATE_RETRY: RetryPolicy = { attempts: 12, baseMs: 500, maxMs: 8_000, jitter: true };

/**
 * Creates the wave's Deployments, at most 10 requests in flight; a create the apiserver
 * refuses with a 5xx (a webhook past its timeout) is retried. Returns how many were refused.
 */
export async function createWave(kc: KubeConfig, w: Wave): Promise<number> {
  const apps = kc.makeApiClient(AppsV1Api);
  let next = 0;
  let refused = 0;
  const create = (i: number): Promise<unknown> =>
    retry(() => apps.createNamespacedDeployment({ namespace: w.namespace, body: deployment(w, i) }), {
      policy: CREATE_RETRY,
      clock: systemClock,
      retryable: (err) => ((err as { code?: number }).code ?? 0) >= 500,
      onRetry: () => refused++,
    });
  await Promise.all(
    Array.from({ length: Math.min(10, w.deployments) }, async () => {
      while (next < w.deployments) await create(next++);
    }),
  );
  return refused;
}

/** Deletes the wave's Deployments (their ReplicaSets and Pods go by garbage collection). */
export async function deleteWave(kc: KubeConfig, w: Wave): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await Promise.all(Array.from({ length: w.deployments }, (_, i) => apps.deleteNamespacedDeployment({ name: `${w.wave}-${i}`, namespace: w.namespace, propagationPolicy: "Background" })));
}

/** What a wave's Pods came to when all were Running, or when the wait gave up. */
export interface WaveOutcome {
  /** performance.now() when the last Pod was Running with its address; undefined when it timed out. */
  doneAt?: number;
  running: number;
  /** Pods that reached phase Failed. */
  failed: number;
}

/**
 * Follows the namespace's Pods of wave `wave` through a (trimmed) informer until `count` of
 * them are Running, and, when `withAddress`, carry the assigned-ips annotation; the time is
 * taken on the event that completes the count, not on a poll.
 */
export async function waitWaveRunning(kc: KubeConfig, w: Pick<Wave, "namespace" | "wave">, expect: { count: number; withAddress: boolean; timeoutMs: number; signal?: AbortSignal }, log: Log): Promise<WaveOutcome> {
  const ready = new Set<string>();
  const failed = new Set<string>();
  const informer = startInformer<PodLike>(kc, {
    name: `scenario-${w.wave}`,
    path: `/api/v1/namespaces/${w.namespace}/pods`,
    list: async () => (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: w.namespace, labelSelector: `wave=${w.wave}` })) as never,
    labelSelector: `wave=${w.wave}`,
    log,
    trim: trimPod,
  });
  try {
    return await new Promise<WaveOutcome>((resolve) => {
      const giveUp = (): void => resolve({ running: ready.size, failed: failed.size });
      const timer = setTimeout(giveUp, expect.timeoutMs);
      expect.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        giveUp();
      });
      const follow = (pod: PodLike): void => {
        const name = pod.metadata.name ?? "";
        if (pod.status?.phase === "Failed") failed.add(name);
        if (pod.status?.phase === "Running" && (!expect.withAddress || pod.metadata.annotations?.[ANNO_ASSIGNED_IPS])) ready.add(name);
        if (ready.size < expect.count) return;
        clearTimeout(timer);
        resolve({ doneAt: performance.now(), running: ready.size, failed: failed.size });
      };
      informer.on("add", follow);
      informer.on("update", follow);
    });
  } finally {
    await informer.stop();
  }
}

/** Waits until the namespace has no Pods left (kwok ends a deleted Pod at once). */
export async function waitNoPods(kc: KubeConfig, namespace: string, timeoutMs = 300_000): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(`the Pods of ${namespace} gone`, async () => (await core.listNamespacedPod({ namespace, limit: 1 })).items.length === 0, timeoutMs, 1000);
}
