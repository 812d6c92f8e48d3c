// The floor of the design, for the benchmarks: beside the floor webhook (floor-webhook.ts),
// the one write per Pod that design.md's life of an address asks of the controller ("Pod
// object exists ──► controller: SpiderEndpoint created"), and nothing else: each Pod of one
// namespace, once the scheduler has placed it, gets the SpiderEndpoint the binder would write
// (endpointFor, with the floor's annotation as its addresses), in one create. No pool, no
// Event, no reclamation. What a scenario costs beyond this is Spiderpool's work beyond the
// record it rests on.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { AssignedIPs } from "../ipam/annotations/assigned.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { endpointFor } from "../ipam/lifecycle/endpoints.js";
import type { Log } from "../ipam/ports.js";
import { startInformer } from "../k8s/informer.js";
import { CustomResources } from "../k8s/resources.js";
import { trimPod } from "../k8s/trim.js";
import { ANNOTATION_KEY } from "./floor-webhook.js";

export interface FloorRecorder {
  /** Endpoints created so far. */
  recorded(): number;
  /** Stops watching, waits for the creates under way, and lets the endpoints go (their finalizer removed) so the namespace can be deleted. */
  close(): Promise<void>;
}

/** The endpoint the binder would write for `pod`, or undefined while the Pod is not placed or lacks the floor's annotation. */
export function floorRecord(pod: PodLike): SpiderEndpoint | undefined {
  const value = pod.metadata.annotations?.[ANNOTATION_KEY];
  if (!pod.spec?.nodeName || !pod.metadata.uid || !pod.metadata.name || value === undefined) return undefined;
  return endpointFor(pod, JSON.parse(value) as AssignedIPs);
}

export function startFloorRecorder(kc: KubeConfig, namespace: string, log: Log): FloorRecorder {
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
  const written = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let created = 0;
  const informer = startInformer<PodLike>(kc, {
    name: "floor-recorder",
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: async () => (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })) as never,
    log,
    trim: trimPod,
  });
  const record = (pod: PodLike): void => {
    const ep = floorRecord(pod);
    const uid = pod.metadata.uid ?? "";
    if (!ep || written.has(uid)) return;
    written.add(uid);
    const write = endpoints.create(ep).then(
      () => void created++,
      (err: unknown) => log.warn({ err, pod: pod.metadata.name }, "floor recorder: create"),
    );
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
  };
  informer.on("add", record);
  informer.on("update", record);
  return {
    recorded: () => created,
    async close() {
      await informer.stop();
      await Promise.all(inFlight);
      const list = await endpoints.list({ fieldSelector: `metadata.namespace=${namespace}` });
      for (const ep of list.items) {
        await endpoints.mergePatch(ep.metadata.name ?? "", { metadata: { finalizers: null } }, namespace).catch((err: unknown) => log.warn({ err }, "floor recorder: finalizer"));
      }
    },
  };
}
