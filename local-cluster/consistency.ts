import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { AUTO_POOL_LABELS } from "../ipam/kinds/auto-pool.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import { checkConsistency, type ConsistencyReport, type PoolConsistency } from "../ipam/lifecycle/consistency.js";
import { CustomResources } from "../k8s/resources.js";
import { waitFor } from "./kube.js";

/**
 * The consistency checker over what the apiserver holds now, reported for the pools of one
 * test file or benchmark: those carrying `labels`, and the automatic pools carved from its
 * subnets (they carry the subnet's name, not its labels). Pools are read first, then
 * endpoints and Pods, as the controller's checker does.
 */
export async function consistencyOf(kc: KubeConfig, labels: Record<string, string>): Promise<ConsistencyReport> {
  const carries = (o: { metadata: { labels?: Record<string, string> } }): boolean => Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v);
  const pools = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).list()).items;
  const subnets = new Set((await new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL).list()).items.filter(carries).map((s) => s.metadata.name));
  const endpoints = (await new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true).list()).items;
  const pods = (await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items as PodLike[];
  const mine = new Set(pools.filter((p) => carries(p) || subnets.has(p.metadata.labels?.[AUTO_POOL_LABELS.subnet])).map((p) => p.metadata.name));
  const all = checkConsistency({ pools, endpoints, pods, now: Date.now() });
  return summarize(all.at, all.pools.filter((p) => mine.has(p.pool)));
}

/** A report over some of the pools of another. */
function summarize(at: number, pools: PoolConsistency[]): ConsistencyReport {
  const sum = (f: (p: PoolConsistency) => number): number => pools.reduce((n, p) => n + f(p), 0);
  return {
    at,
    leaked: sum((p) => p.leaked.length),
    missing: sum((p) => p.missing.length),
    duplicates: sum((p) => p.duplicates.length),
    expiredReservations: sum((p) => p.expiredReservations.length),
    unreadable: sum((p) => (p.unreadable ? 1 : 0)),
    pools,
  };
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
