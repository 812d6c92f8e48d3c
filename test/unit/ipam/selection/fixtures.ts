import type { SpiderIPPool } from "../../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../../ipam/kinds/subnet.js";
import type { SelectionConfig, SelectionInput } from "../../../../ipam/selection/types.js";

export function pool(name: string, spec: Partial<SpiderIPPool["spec"]> = {}, meta: Partial<SpiderIPPool["metadata"]> = {}): SpiderIPPool {
  return { metadata: { name, ...meta }, spec: { subnet: "10.6.0.0/16", ips: ["10.6.0.10-10.6.0.99"], ...spec } };
}

export function pool6(name: string, spec: Partial<SpiderIPPool["spec"]> = {}): SpiderIPPool {
  return pool(name, { subnet: "fd00:6::/64", ips: ["fd00:6::10-fd00:6::99"], ...spec });
}

export function subnet(name: string, cidr = "10.6.0.0/16", meta: Partial<SpiderSubnet["metadata"]> = {}): SpiderSubnet {
  return { metadata: { name, ...meta }, spec: { subnet: cidr } };
}

export const config: SelectionConfig = {
  enableIPv4: true,
  enableIPv6: false,
  enableSpiderSubnet: true,
  clusterDefaultIPv4IPPool: [],
  clusterDefaultIPv6IPPool: [],
  installNamespace: "kube-system",
};

export function input(over: Partial<SelectionInput> = {}): SelectionInput {
  return {
    pod: { namespace: "app", name: "web-0", labels: { app: "web" }, annotations: {} },
    namespace: { labels: { team: "a" }, annotations: {} },
    nics: [{ interface: "eth0" }],
    pools: [],
    subnets: [],
    config,
    ...over,
  };
}

export const annotated = (annotations: Record<string, string>, over: Partial<SelectionInput> = {}): SelectionInput => {
  const base = input(over);
  return { ...base, pod: { ...base.pod, annotations } };
};
