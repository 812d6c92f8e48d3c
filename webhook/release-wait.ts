import type { SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { ownerMayBeGone } from "../ipam/lifecycle/binder.js";
import { statefulSetOwnerOf } from "../ipam/lifecycle/statefulset.js";
import { holdsStock } from "../ipam/lifecycle/stock.js";
import type { Cache, Clock } from "../ipam/ports.js";
import type { ReleaseWait } from "./admission/pod.js";

/** How long a Pod admission waits for an address on its way back (the webhook's timeout is 10 s). */
export const RELEASE_WAIT_MS = 3_000;

const holdsIn = (ep: SpiderEndpoint, pools: readonly string[]): boolean =>
  (ep.status?.current?.ips ?? []).some((n) => pools.includes(n.ipv4Pool ?? "") || pools.includes(n.ipv6Pool ?? ""));

/**
 * The release wait of Pod admission, over the controller's caches. A StatefulSet's endpoint
 * keeps its addresses for the next Pod of its ordinal: nothing comes back from it.
 */
export function releaseWait(c: { endpoints: Cache<SpiderEndpoint>; pods: Cache<PodLike>; pools: Cache<SpiderIPPool> }, clock: Clock, waitMs = RELEASE_WAIT_MS): ReleaseWait {
  return {
    coming: (pools) =>
      pools.some((name) => holdsStock(c.pools.get(name))) ||
      c.endpoints.list().some((ep) => holdsIn(ep, pools) && statefulSetOwnerOf(ep) === undefined && ownerMayBeGone(ep, c.pods.get(ep.metadata.name ?? "", ep.metadata.namespace))),
    free: (pools) =>
      pools.some((name) => {
        const status = c.pools.get(name)?.status;
        return status !== undefined && (status.allocatedIPCount ?? 0) < (status.totalIPCount ?? 0);
      }),
    waitMs,
    clock,
  };
}
