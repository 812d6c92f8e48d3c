// Jest globalSetup/globalTeardown for the integration and e2e projects. Jest loads these
// outside its ESM TypeScript transform, so they hand over to the TypeScript harness
// through tsx. See test-cluster.ts for how one control plane serves the whole run.
import { tsImport } from "tsx/esm/api";

const harness = () => tsImport("./test-cluster.ts", import.meta.url);

export async function setupIntegration() {
  const { ensureTestCluster } = await harness();
  const { CONTROL_PLANE } = await tsImport("../../local-cluster/cluster.ts", import.meta.url);
  const state = await ensureTestCluster(CONTROL_PLANE);
  console.log(`\n[integration] control plane ${state.server} (${state.dir})`);
}

export async function setupE2e() {
  const { ensureTestCluster } = await harness();
  const { FULL_CLUSTER } = await tsImport("../../local-cluster/cluster.ts", import.meta.url);
  const state = await ensureTestCluster(FULL_CLUSTER);
  console.log(`\n[e2e] control plane ${state.server} with ${state.components.join(", ")} (${state.dir})`);
}

export async function teardown() {
  const { teardownTestCluster } = await harness();
  await teardownTestCluster();
}
