import type { ObjectMeta, Route } from "./meta.js";

export const ENDPOINT_KIND = "SpiderEndpoint";
export const ENDPOINT_PLURAL = "spiderendpoints";

/** One NIC's addresses as recorded for a Pod. Addresses are in CIDR form (10.6.0.5/24). */
export interface EndpointIP {
  interface: string;
  ipv4?: string;
  ipv6?: string;
  ipv4Pool?: string;
  ipv6Pool?: string;
  vlan?: number;
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  cleanGateway?: boolean;
  routes?: Route[];
}

export interface EndpointCurrent {
  uid: string;
  node?: string;
  ips: EndpointIP[];
  /** (ext) the reservation this endpoint binds, and the pool-local tokens per address. */
  reservation?: string;
  containerID?: string;
}

export interface EndpointStatus {
  current?: EndpointCurrent;
  ownerControllerType?: string;
  ownerControllerName?: string;
}

export interface SpiderEndpoint {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  status?: EndpointStatus;
}
