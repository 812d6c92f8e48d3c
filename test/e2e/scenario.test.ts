import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { applyCrds } from "../../local-cluster/kube.js";
import { runScenario, type ScenarioResult } from "../../local-cluster/scenario.js";
import { scenarioTable } from "../../local-cluster/scenario-table.js";
import { deleteScenarioNodes, scenarioNodes } from "../../local-cluster/scenario-workload.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

/**
 * The scenario runner of `npm run bench:scenario` at smoke size (3 Deployments × 2 on 2
 * kwok nodes): the baseline, the floor webhook, the design's floor (that webhook and one
 * SpiderEndpoint create per Pod), and the churn at a full pool, which go through
 * every step of the full run (controller process, pool, waves, deletion, metrics, consistency,
 * the table).
 */
describe("scenario runner (bench/scenario.bench.ts) at smoke size", () => {
  let kc: KubeConfig;
  let nodes: string[] = [];
  const id = `scn${Date.now() % 100000}`;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    nodes = await scenarioNodes(kc, id, 2);
  });
  afterAll(async () => {
    await deleteScenarioNodes(kc, nodes);
  });

  it("measures the baseline, the floors and a churn at a full pool: every Pod Running with its own address, nothing leaked", async () => {
    const run = { kc, kubeconfig: testClusterState().kubeconfig, nodes: id, deployments: 3, replicas: 2, timeoutMs: 90_000, log: pino({ level: "warn" }) };
    const results: ScenarioResult[] = [];
    for (const kind of ["baseline", "floor", "floor-record", "churn"] as const) results.push(await runScenario(run, kind));
    const [baseline, floor, floorRecord, churn] = results as [ScenarioResult, ScenarioResult, ScenarioResult, ScenarioResult];
    expect(baseline).toMatchObject({ running: 6, failed: 0, admissions: 0 });
    expect(baseline.wallMs).toBeGreaterThan(0);
    // The floor's webhook was called for every Pod (its configurations registered and reached).
    expect(floor).toMatchObject({ running: 6, failed: 0, refused: 0 });
    expect(floor.admissions).toBeGreaterThanOrEqual(6);
    expect(floor.costs?.requestsPerPod["POST spiderendpoints"]).toBeUndefined();
    // The design's floor wrote every placed Pod's SpiderEndpoint, once: its figures stand for that write.
    expect(floorRecord).toMatchObject({ running: 6, failed: 0, refused: 0, verdict: "6 of 6 endpoints written" });
    expect(floorRecord.costs?.requestsPerPod["POST spiderendpoints"]).toBeGreaterThanOrEqual(1);
    // What each wave cost: the apiserver's CPU and requests, the Pods' own creates among them; a SpiderEndpoint per Pod only with Spiderpool.
    expect(baseline.costs?.cpu["kube-apiserver"]).toBeGreaterThan(0);
    expect(baseline.costs?.requestsPerPod["POST pods"]).toBeGreaterThanOrEqual(1);
    expect(baseline.costs?.requestsPerPod["POST spiderendpoints"]).toBeUndefined();
    expect(churn.costs?.requestsPerPod["POST spiderendpoints"]).toBeGreaterThanOrEqual(1);
    // Two waves of 6 Pods, the second admitted while the first's 6 addresses were still held: some refusals, no failures.
    expect(churn).toMatchObject({ running: 6, failed: 0, verdict: "clean (0 leaked, 0 missing, 0 duplicates)" });
    expect(churn.admissions).toBeGreaterThanOrEqual(12);
    expect(churn.admissionP50Ms).toBeGreaterThan(0);
    expect(churn.controllerPeakRss).toBeGreaterThan(0);
    const table = scenarioTable(results).split("\n");
    expect(table).toHaveLength(6);
    expect(table[3]).toContain("0. floor: a webhook that answers at once");
    expect(table[4]).toContain("0. the design's floor");
    expect(table[5]).toContain("4. all deleted and re-created at a full pool");
  }, 240_000);
});
