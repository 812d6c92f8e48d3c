/**
 * What one run does, from three sources: the network config wins over the cluster's
 * defaults (SpiderCoordinator, through spiderpool-agent), which win over the built-in
 * ones. The Pod's `ipam.spidernet.io/default-route-nic` annotation wins over both for the
 * default route's NIC: it is the most specific choice there is.
 */
import type { Cidr } from "./addr.js";
import type { Mode, Tunables } from "./config.js";

export interface Settings {
  mode: Mode;
  tunePodRoutes: boolean;
  /** The NIC that holds the Pod's default route; undefined: the Pod's first NIC. */
  podDefaultRouteNIC?: string;
  detectGateway: boolean;
  detectIPConflict: boolean;
  podMACPrefix?: string;
  /** Routed from the Pod through the veth: Service CIDRs, overlay Pod CIDRs, hijackCIDR. */
  hijack: Cidr[];
  hostRuleTable: number;
  /** -1: leave the sysctl alone. */
  hostRPFilter: number;
  podRPFilter: number;
  /** 0: the kernel's default. */
  txQueueLen: number;
  vethLinkAddress?: string;
  /** 0: the MTU of the Pod's NIC. */
  vethMTU: number;
}

export const BUILT_IN = {
  mode: "auto",
  tunePodRoutes: true,
  detectGateway: false,
  detectIPConflict: false,
  hostRuleTable: 500,
  hostRPFilter: 0,
  podRPFilter: 0,
  txQueueLen: 0,
  vethMTU: 0,
} as const satisfies Partial<Settings>;

export function resolveSettings(network: Tunables, cluster: Tunables = {}, annotationDefaultRouteNIC?: string): Settings {
  const pick = <K extends keyof Tunables>(key: K): Tunables[K] => (network[key] !== undefined ? network[key] : cluster[key]);
  const list = (key: "serviceCIDR" | "overlayPodCIDR" | "hijackCIDR"): Cidr[] => {
    const own = network[key];
    return own !== undefined && own.length > 0 ? own : (cluster[key] ?? []);
  };
  const s: Settings = {
    mode: pick("mode") ?? BUILT_IN.mode,
    tunePodRoutes: pick("tunePodRoutes") ?? BUILT_IN.tunePodRoutes,
    detectGateway: pick("detectGateway") ?? BUILT_IN.detectGateway,
    detectIPConflict: pick("detectIPConflict") ?? BUILT_IN.detectIPConflict,
    hijack: [...list("serviceCIDR"), ...list("overlayPodCIDR"), ...list("hijackCIDR")],
    hostRuleTable: pick("hostRuleTable") ?? BUILT_IN.hostRuleTable,
    hostRPFilter: pick("hostRPFilter") ?? BUILT_IN.hostRPFilter,
    podRPFilter: pick("podRPFilter") ?? BUILT_IN.podRPFilter,
    txQueueLen: pick("txQueueLen") ?? BUILT_IN.txQueueLen,
    vethMTU: pick("vethMTU") ?? BUILT_IN.vethMTU,
  };
  const routeNIC = annotationDefaultRouteNIC || pick("podDefaultRouteNIC");
  if (routeNIC) s.podDefaultRouteNIC = routeNIC;
  const mac = pick("podMACPrefix");
  if (mac) s.podMACPrefix = mac;
  const veth = pick("vethLinkAddress");
  if (veth) s.vethLinkAddress = veth;
  return s;
}
