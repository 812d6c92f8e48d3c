import type { ObjectMeta, Route } from "./meta.js";

export const ENDPOINT_KIND = "SpiderEndpoint";
export const ENDPOINT_PLURAL = "spiderendpoints";
/** The endpoint's node as a selectable field (the CRD's selectableFields): `status.current.node=<node>`. */
export const ENDPOINT_NODE_FIELD = ".status.current.node";

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
  /** (ext) the pool-local tokens under which the pools hold the addresses: releases name them. */
  ipv4Token?: number;
  ipv6Token?: number;
}

export interface EndpointCurrent {
  uid: string;
  node?: string;
  ips: EndpointIP[];
  /** (ext) the reservation made at Pod admission that this endpoint binds. */
  reservation?: string;
  /** The sandbox that last set up the Pod's network. */
  containerID?: string;
  /** (ext) The live CNI attachments (sandbox, NIC, network), as ADD recorded and DEL/GC forget them. */
  attachments?: EndpointAttachment[];
}

export interface EndpointAttachment {
  containerID: string;
  interface: string;
  network: string;
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
