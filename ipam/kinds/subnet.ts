import type { IPVersion, ObjectMeta, Route } from "./meta.js";

export const SUBNET_KIND = "SpiderSubnet";
export const SUBNET_PLURAL = "spidersubnets";

export interface SubnetSpec {
  ipVersion?: IPVersion;
  subnet: string;
  ips?: string[];
  excludeIPs?: string[];
  gateway?: string;
  routes?: { dst: string; gw: string }[];
  /** (ext) default vlan for the pools carved from this subnet. */
  vlan?: number;
}

/** Which pool holds which addresses of the subnet; for auto pools, which application. */
export interface ControlledIPPool {
  ips: string[];
  application?: string;
  /**
   * (ext) When an automatic pool's addresses were set aside here, before the pool existed:
   * this entry is the compare-and-swap that keeps two pools from taking the same addresses.
   */
  reservedAt?: string;
}

export interface SubnetStatus {
  controlledIPPools?: Record<string, ControlledIPPool>;
  allocatedIPCount?: number;
  totalIPCount?: number;
}

export interface SpiderSubnet {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: SubnetSpec;
  status?: SubnetStatus;
}

export type { Route };
