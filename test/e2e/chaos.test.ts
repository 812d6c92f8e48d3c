import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { runChaos } from "../../local-cluster/chaos.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

/**
 * The chaos run at CI size (docs/reliability.md; `npm run chaos` runs the full 2,000 Pods):
 * waves of Deployments, StatefulSets and bare Pods while controller replicas are killed, an
 * agent restarted and the apiserver restarted once. It restarts this run's apiserver: the
 * e2e tier runs its files one at a time on these 2-core machines.
 */
describe("chaos", () => {
  it("ends with 0 leaked, 0 missing, 0 duplicates", async () => {
    const kc = testKubeConfig();
    await applyCrds(kc);
    const pods = Number(process.env.SPIDERPOOL_CHAOS_PODS ?? 150);
    const result = await runChaos({ kc, state: testClusterState(), pods, waves: 3, kills: 3, log: pino({ level: process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error" }) });
    process.stdout.write(`chaos: ${JSON.stringify({ ...result, report: { leaked: result.report.leaked, missing: result.report.missing, duplicates: result.report.duplicates } })}\n`);
    expect(result.podsCreated).toBe(pods);
    expect(result).toMatchObject({ controllerKills: 3, agentRestarts: 1, apiserverRestarts: 1 });
    expect({ leaked: result.report.leaked, missing: result.report.missing, duplicates: result.report.duplicates }).toEqual({ leaked: 0, missing: 0, duplicates: 0 });
  }, 900_000);
});
