import { clusterDir, extendCluster, readState, startCluster, stopCluster, type ClusterState, type Component } from "./cluster.js";

/**
 * The one control plane of a jest run. Jest calls each selected project's globalSetup in
 * the same parent process, so the first one starts the cluster and the next extends it
 * with the components it needs; workers find it through SPIDERPOOL_TEST_CLUSTER_DIR.
 */
const NAME = "test";
const RUN_ENV = "SPIDERPOOL_TEST_RUN";

export async function ensureTestCluster(components: Component[]): Promise<ClusterState> {
  const dir = clusterDir(NAME);
  const runId = process.env[RUN_ENV];
  const existing = runId ? readState(dir) : undefined;
  const state =
    existing && existing.runId === runId
      ? await extendCluster(existing, components)
      : await startCluster(NAME, components, (process.env[RUN_ENV] = `${process.pid}-${Date.now()}`));
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
