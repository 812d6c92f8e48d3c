import type { PoolRequest, PoolResponse } from "../ipam/allocation/requests.js";
import { isIpamError } from "../ipam/errors.js";
import type { Allocator } from "../ipam/ports.js";
import type { ControllerMetrics } from "./metrics.js";

const releasing = (r: PoolRequest): boolean => r.kind === "release" || r.kind === "release-reservation";

/**
 * The allocator, with the release family of metrics observed around it: how long each
 * release (of an address, or of a whole reservation) took and why one failed. Allocation
 * is observed at admission, where its outcome is known per Pod.
 */
export function meteredReleases(inner: Allocator, metrics: Pick<ControllerMetrics, "releaseDuration" | "releaseFailures">): Allocator {
  return {
    async submit(pool: string, request: PoolRequest): Promise<PoolResponse> {
      if (!releasing(request)) return inner.submit(pool, request);
      const end = metrics.releaseDuration.startTimer();
      try {
        const response = await inner.submit(pool, request);
        if (!response.ok) metrics.releaseFailures.inc({ reason: response.error.code });
        return response;
      } catch (err) {
        metrics.releaseFailures.inc({ reason: isIpamError(err) ? err.code : "UNAVAILABLE" });
        throw err;
      } finally {
        end();
      }
    },
    ...(inner.observe ? { observe: (p) => inner.observe?.(p) } : {}),
    ...(inner.latest ? { latest: (name) => inner.latest?.(name) } : {}),
  };
}
