import { expect } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { waitConsistent } from "../../local-cluster/consistency.js";

/**
 * What every e2e suite calls in its afterAll: the consistency checker over the suite's own
 * pools (those carrying its controller's labels) settles at 0 leaked, 0 missing and 0
 * duplicates.
 */
export async function expectConsistent(kc: KubeConfig, labels: Record<string, string>, timeoutMs = 60_000): Promise<void> {
  const report = await waitConsistent(kc, labels, timeoutMs);
  expect({ leaked: report.leaked, missing: report.missing, duplicates: report.duplicates }).toEqual({ leaked: 0, missing: 0, duplicates: 0 });
}
