import { clusterDir, extendCluster, readState, startCluster, stopCluster, type ClusterState, type Component } from "../../local-cluster/cluster.js";
import { alive } from "../../local-cluster/processes.js";

/**
 * The one control plane of a jest run. Jest calls each selected project's globalSetup in
 * the same parent process, so the first one starts the cluster and the next extends it
 * with the components it needs; workers find it through SPIDERPOOL_TEST_CLUSTER_DIR.
 */
const RUN_ENV = "SPIDERPOOL_TEST_RUN";

/**
 * "test", unless a live jest run (another terminal, a helper) owns that cluster: then a
 * name of our own. A cluster whose owner is gone is stale and gets replaced.
 */
function clusterName(): string {
  const state = readState(clusterDir("test"));
  const owner = Number(state?.runId.split("-")[0]);
  return state && owner !== process.pid && alive(owner) ? `test-${process.pid}` : "test";
}

export async function ensureTestCluster(components: Component[]): Promise<ClusterState> {
  const runId = process.env[RUN_ENV];
  const existing = runId ? readState(process.env.SPIDERPOOL_TEST_CLUSTER_DIR ?? "") : undefined;
  const state =
    existing && existing.runId === runId
      ? await extendCluster(existing, components)
      : await startCluster(clusterName(), components, (process.env[RUN_ENV] = `${process.pid}-${Date.now()}`));
  process.env.SPIDERPOOL_TEST_CLUSTER_DIR = state.dir;
  process.env.SPIDERPOOL_TEST_KUBECONFIG = state.kubeconfig;
  return state;
}

export async function teardownTestCluster(): Promise<void> {
  const dir = process.env.SPIDERPOOL_TEST_CLUSTER_DIR;
  if (!dir || process.env.SPIDERPOOL_KEEP_CLUSTER === "1") return;
  delete process.env.SPIDERPOOL_TEST_CLUSTER_DIR;
  await stopCluster(dir);
}

/** The state of this run's cluster, for test files (workers). */
export function testClusterState(): ClusterState {
  const dir = process.env.SPIDERPOOL_TEST_CLUSTER_DIR;
  const state = dir ? readState(dir) : undefined;
  if (!state) throw new Error("no test control plane: run this tier through jest (npm run test:integration), whose globalSetup starts one");
  return state;
}
