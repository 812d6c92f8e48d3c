import { ApiException, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { adminKubeConfig, identityKubeConfig } from "../../local-cluster/kubeconfig.js";
import { kubectl as kubectlFor } from "../../local-cluster/kubectl.js";
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
