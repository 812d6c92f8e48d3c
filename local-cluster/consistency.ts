import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { checkConsistency, type ConsistencyReport } from "../ipam/lifecycle/consistency.js";
import { CustomResources } from "../k8s/resources.js";
import { waitFor } from "./kube.js";

/**
 * The consistency checker over what the apiserver holds now, for the pools carrying
 * `labels` (a test file's or a benchmark's own pools): pools are read first, then endpoints
 * and Pods, as the controller's checker does.
 */
export async function consistencyOf(kc: KubeConfig, labels: Record<string, string>): Promise<ConsistencyReport> {
  const pools = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).list()).items.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v));
  const endpoints = (await new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true).list()).items;
  const pods = (await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items as PodLike[];
  return checkConsistency({ pools, endpoints, pods, now: Date.now() });
}

/** The totals that must be 0 at rest: leaked, missing, duplicates. */
export const clean = (r: ConsistencyReport): boolean => r.leaked === 0 && r.missing === 0 && r.duplicates === 0;

/**
 * Waits until the checker reports 0 leaked, 0 missing and 0 duplicates for the pools with
 * `labels` (reclamation of the last deletions may still be under way); throws the last
 * report's findings when that does not happen within `timeoutMs`.
 */
export async function waitConsistent(kc: KubeConfig, labels: Record<string, string>, timeoutMs = 60_000): Promise<ConsistencyReport> {
  let last: ConsistencyReport | undefined;
  try {
    return await waitFor("the consistency checker to report 0 leaked, 0 missing, 0 duplicates", async () => {
      last = await consistencyOf(kc, labels);
      return clean(last) ? last : undefined;
    }, timeoutMs, 500);
  } catch (err) {
    const findings = (last?.pools ?? []).filter((p) => p.leaked.length + p.missing.length + p.duplicates.length > 0);
    throw new Error(`${(err as Error).message}: ${JSON.stringify(findings)}`);
  }
}
