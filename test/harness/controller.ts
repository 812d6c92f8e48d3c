import type { KubeConfig } from "@kubernetes/client-node";
import { startLocalController, type LocalController, type LocalControllerOptions } from "../../local-cluster/controller.js";
import { testClusterState } from "./test-cluster.js";

export type TestController = LocalController;

/**
 * spiderpool-controller for one test file: local-cluster's controller, scoped to the
 * file's own objects, logging at SPIDERPOOL_TEST_LOG_LEVEL (errors only by default). It runs
 * as the Helm chart's controller ServiceAccount, with the chart's RBAC and settings; on a
 * control plane without kube-scheduler (the integration tier) no Pod is ever placed, so
 * binding does not wait for a node there.
 */
export function startTestController(
  kc: KubeConfig,
  prefix: string,
  settings: Record<string, string> = {},
  clusterConfig?: string,
  replicas = 1,
  options: Pick<LocalControllerOptions, "controllerKubeConfig" | "identity" | "chartValues"> = {},
): Promise<TestController> {
  const logLevel = process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error";
  const scheduled = testClusterState().components.includes("kube-scheduler");
  const defaults = { SPIDERPOOL_LOG_LEVEL: logLevel, ...(scheduled ? {} : { SPIDERPOOL_BIND_WAIT_FOR_NODE_MS: "0" }) };
  return startLocalController(kc, { prefix, settings: { ...defaults, ...settings }, clusterConfig, replicas, ...options });
}
