import type { Logger } from "pino";
import { parseAddressInCIDR } from "../ipam/address/cidr.js";
import type { EndpointIP, SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import type { Allocator } from "./pool-writer.js";
import type { CustomResources } from "./resources.js";

/** Keeps a SpiderEndpoint until its addresses are released. */
export const ENDPOINT_FINALIZER = "spiderpool.spidernet.io/release-ips";

/** Each address an endpoint or annotation records, with its pool and token. */
export function recordedAddresses(ips: readonly EndpointIP[]): { pool: string; address: bigint; token: number; text: string }[] {
  const out: { pool: string; address: bigint; token: number; text: string }[] = [];
  for (const nic of ips) {
    for (const p of ["ipv4", "ipv6"] as const) {
      const text = nic[p];
      const pool = nic[`${p}Pool`];
      const token = nic[`${p}Token`];
      if (text && pool && token !== undefined) out.push({ pool, address: parseAddressInCIDR(text).address.value, token, text });
    }
  }
  return out;
}

/** Releases exactly what the endpoint records (by token: a repeat is a no-op). Returns how many were freed. */
export async function releaseRecorded(allocator: Allocator, ep: SpiderEndpoint): Promise<number> {
  const addrs = recordedAddresses(ep.status?.current?.ips ?? []);
  const results = await Promise.all(addrs.map((a) => allocator.submit(a.pool, { kind: "release", address: a.address, token: a.token })));
  return results.filter((r) => r.ok && r.kind === "release" && r.outcome === "released").length;
}

/**
 * Releases what the endpoint records, then removes its finalizer and the endpoint. A lost
 * compare-and-swap throws; repeating the whole step is harmless because releases are exact.
 */
export async function releaseEndpoint(allocator: Allocator, endpoints: CustomResources<SpiderEndpoint>, ep: SpiderEndpoint, reason: string, log: Logger): Promise<number> {
  const released = await releaseRecorded(allocator, ep);
  log.info({ endpoint: `${ep.metadata.namespace}/${ep.metadata.name}`, reason, released }, "addresses released");
  const finalizers = (ep.metadata.finalizers ?? []).filter((f) => f !== ENDPOINT_FINALIZER);
  await endpoints.replace({ ...ep, metadata: { ...ep.metadata, finalizers } });
  if (!ep.metadata.deletionTimestamp) await endpoints.delete(ep.metadata.name ?? "", ep.metadata.namespace);
  return released;
}
