import type { IPVersion, LabelSelector, ObjectMeta, Route } from "./meta.js";

export const IPPOOL_KIND = "SpiderIPPool";
export const IPPOOL_PLURAL = "spiderippools";

/** spec of a SpiderIPPool (cluster-scoped, short name `sp`). See docs/reference/crds.md. */
export interface IPPoolSpec {
  ipVersion?: IPVersion;
  subnet: string;
  ips?: string[];
  excludeIPs?: string[];
  gateway?: string;
  routes?: Route[];
  podAffinity?: LabelSelector;
  namespaceAffinity?: LabelSelector;
  namespaceName?: string[];
  nodeAffinity?: LabelSelector;
  nodeName?: string[];
  multusName?: string[];
  default?: boolean;
  disable?: boolean;
  /** (ext) passed through to CNI results. */
  vlan?: number;
}

/**
 * status of a SpiderIPPool. `allocatedIPCount`/`totalIPCount` are the Spiderpool-compatible
 * counters; `allocations` is this project's compact record of who holds which address
 * (format owned by ipam/allocation/codec.ts), the truth that uniqueness rests on.
 */
export interface IPPoolStatus {
  allocatedIPCount?: number;
  totalIPCount?: number;
  allocations?: string;
}

export interface SpiderIPPool {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: IPPoolSpec;
  status?: IPPoolStatus;
}
