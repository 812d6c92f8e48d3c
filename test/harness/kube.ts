import { ApiException, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { adminKubeConfig, identityKubeConfig } from "../../local-cluster/kubeconfig.js";
import { kubectl as kubectlFor } from "../../local-cluster/kubectl.js";
import type { IPPoolSpec, SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { ConflictError, type ObjectStore } from "../../ipam/ports.js";
import { retry } from "../../ipam/retry.js";
import { systemClock } from "../../runtime/clock.js";
import { testClusterState } from "./test-cluster.js";

// The local-cluster helpers bound to this jest run's control plane (found through the
// environment its globalSetup leaves for the workers).

/** A KubeConfig for this run's test control plane (admin identity). */
export function testKubeConfig(): KubeConfig {
  return adminKubeConfig(testClusterState());
}

/** A KubeConfig for another identity of the test cluster, with no rights until RBAC grants some. */
export function userKubeConfig(username: string, groups: string[] = []): KubeConfig {
  return identityKubeConfig(testClusterState(), username, groups);
}

/** Runs the real kubectl against the test control plane; rejects with its stderr. */
export function kubectl(args: string[], stdin?: string): Promise<string> {
  return kubectlFor(testClusterState().kubeconfig, args, stdin);
}

/** The Status the apiserver answered with when `call` was refused; fails if it succeeded. */
export async function refusal(call: Promise<unknown>): Promise<V1Status> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) {
      return (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as V1Status;
    }
    throw err;
  }
  throw new Error("expected the apiserver to refuse the request, but it succeeded");
}

/**
 * Replaces a pool as it is now with its spec changed. The controller writes a pool's status
 * (bindings, counts) at any moment, so a read may be stale by the time of the write: a lost
 * compare-and-swap is tried again, so that the answer is the admission's, not a conflict.
 */
export function replaceFresh(pools: Pick<ObjectStore<SpiderIPPool>, "get" | "replace">, name: string, change: (spec: IPPoolSpec) => IPPoolSpec): Promise<SpiderIPPool> {
  return retry(
    async () => {
      const current = (await pools.get(name)) as SpiderIPPool;
      return pools.replace({ ...current, spec: change(current.spec) });
    },
    { policy: { attempts: 6, baseMs: 10, maxMs: 100, jitter: true }, clock: systemClock, retryable: (err) => err instanceof ConflictError },
  );
}
