import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { parseAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { podKey, type NodeLike, type PodLike } from "../../ipam/kinds/pod.js";
import { isNotFound, type CustomResources } from "../../k8s/resources.js";

/**
 * Reads at the apiserver, for judgements that must not rest on a cache that may be behind:
 * an owner right before its addresses are released, the Pods of expired reservations, the
 * consistency checker and the full scan.
 */
export interface LiveReads {
  pod: (namespace: string, name: string) => Promise<PodLike | undefined>;
  node: (name: string) => Promise<NodeLike | undefined>;
  pods: () => Promise<PodLike[]>;
  podsByReservation: () => Promise<Map<string, string>>;
  pools: () => Promise<SpiderIPPool[]>;
  endpoints: () => Promise<SpiderEndpoint[]>;
}

/** Pages of 500, so a large cluster is not read in one answer. */
async function allPods(core: CoreV1Api): Promise<PodLike[]> {
  const out: PodLike[] = [];
  let cont: string | undefined;
  do {
    const page = await core.listPodForAllNamespaces({ limit: 500, ...(cont ? { _continue: cont } : {}) });
    out.push(...(page.items as PodLike[]));
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function liveReads(kc: KubeConfig, stores: { pools: CustomResources<SpiderIPPool>; endpoints: CustomResources<SpiderEndpoint> }): LiveReads {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    pod: (namespace, name) => orUndefined(async () => (await core.readNamespacedPod({ name, namespace })) as PodLike),
    node: (name) => orUndefined(async () => (await core.readNode({ name })) as NodeLike),
    pods: () => allPods(core),
    podsByReservation: async () => {
      const out = new Map<string, string>();
      for (const p of await allPods(core)) {
        const text = p.metadata.annotations?.[ANNO_ASSIGNED_IPS];
        if (!text) continue;
        try {
          out.set(parseAssignedIPs(text).reservation, podKey(p));
        } catch {
          continue; // the binder reports a malformed annotation on its Pod
        }
      }
      return out;
    },
    pools: async () => [...(await stores.pools.list()).items],
    endpoints: async () => [...(await stores.endpoints.list()).items],
  };
}
