import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { cidrContains, parseCIDR } from "../ipam/address/cidr.js";
import { formatIP, type IPAddress } from "../ipam/address/ip.js";
import type { IPSet } from "../ipam/address/ipset.js";
import { decodeAllocations } from "../ipam/allocation/codec.js";
import { holders, type Holder } from "../ipam/allocation/state.js";
import { DEFAULT_CLUSTER_CONFIG, parseClusterConfig, type ClusterConfig } from "../ipam/kinds/cluster-config.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../ipam/kinds/ippool.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../ipam/kinds/reservedip.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../ipam/kinds/subnet.js";
import type { Log } from "../ipam/ports.js";
import { reservedFrom } from "../ipam/lifecycle/pool-commit.js";
import { isNotFound, CustomResources } from "../k8s/resources.js";

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

/** What the CLI reads from the apiserver, live, with the user's credentials. */
export class ClusterReads {
  readonly pools: CustomResources<SpiderIPPool>;
  readonly subnets: CustomResources<SpiderSubnet>;
  readonly endpoints: CustomResources<SpiderEndpoint>;
  readonly reservedIPs: CustomResources<SpiderReservedIP>;
  readonly core: CoreV1Api;

  constructor(readonly kc: KubeConfig) {
    this.pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
    this.subnets = new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL);
    this.endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    this.reservedIPs = new CustomResources<SpiderReservedIP>(kc, RESERVEDIP_PLURAL);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async allPools(): Promise<SpiderIPPool[]> {
    return (await this.pools.list()).items;
  }

  /** SpiderReservedIP addresses of a family (a malformed object is skipped, as the controller does). */
  async reserved(): Promise<(family: 4 | 6) => IPSet> {
    const list = (await this.reservedIPs.list()).items;
    return reservedFrom(() => list, quiet);
  }

  /** The Pod as the apiserver has it now, or undefined when there is none. */
  async pod(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core.readNamespacedPod({ name, namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** spiderpool-conf in the controller's namespace; the defaults when it is absent or unreadable. */
  async clusterConfig(namespace: string): Promise<ClusterConfig> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name: "spiderpool-conf", namespace });
      const { config, errors } = parseClusterConfig(yaml.load(cm.data?.["conf.yml"] ?? ""));
      return errors.length === 0 ? config : DEFAULT_CLUSTER_CONFIG;
    } catch (err) {
      if (isNotFound(err)) return DEFAULT_CLUSTER_CONFIG;
      throw err;
    }
  }
}

/** One pool's hold on an address: the record's holder, or none. */
export interface PoolHold {
  pool: SpiderIPPool;
  holder?: Holder;
  /** Released, resting until this time (ms) before it is handed out again. */
  coolingUntil?: number;
}

/** Every pool whose subnet contains `ip`, with what its record says about it. */
export function holdsOf(pools: readonly SpiderIPPool[], ip: IPAddress): PoolHold[] {
  const out: PoolHold[] = [];
  for (const pool of pools) {
    let subnet;
    try {
      subnet = parseCIDR(pool.spec.subnet);
    } catch {
      continue;
    }
    if (subnet.family !== ip.family || !cidrContains(subnet, ip.value)) continue;
    const state = decodeAllocations(pool.status?.allocations, subnet);
    let holder: Holder | undefined;
    for (const h of holders(state)) {
      if (h.address === ip.value) holder = h;
      if (h.address >= ip.value) break;
    }
    const cooling = state.cooling.find((c) => c.address === ip.value);
    out.push({ pool, ...(holder ? { holder } : {}), ...(cooling ? { coolingUntil: cooling.until } : {}) });
  }
  return out;
}

/** The endpoints that record `ip` (text, no prefix) from `pool`. */
export function endpointsRecording(endpoints: readonly SpiderEndpoint[], pool: string, ip: IPAddress): SpiderEndpoint[] {
  const text = formatIP(ip.family, ip.value);
  return endpoints.filter((ep) =>
    (ep.status?.current?.ips ?? []).some((nic) => (ip.family === 4 ? nic.ipv4Pool === pool && nic.ipv4?.split("/")[0] === text : nic.ipv6Pool === pool && nic.ipv6?.split("/")[0] === text)),
  );
}
