import { formatCIDR, type CIDR } from "../address/cidr.js";
import type { Family } from "../address/ip.js";
import { IPSet } from "../address/ipset.js";
import type { IPRange } from "../address/range.js";

/** An application that owns an automatic pool: a Pod's top controller. */
export interface Application {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export const AUTO_POOL_LABELS = {
  gv: "ipam.spidernet.io/owner-application-gv",
  kind: "ipam.spidernet.io/owner-application-kind",
  namespace: "ipam.spidernet.io/owner-application-namespace",
  name: "ipam.spidernet.io/owner-application-name",
  uid: "ipam.spidernet.io/owner-application-uid",
  subnet: "ipam.spidernet.io/owner-spider-subnet",
  interface: "ipam.spidernet.io/interface",
  ipVersion: "ipam.spidernet.io/ip-version",
  reclaim: "ipam.spidernet.io/ippool-reclaim",
  cidr: "ipam.spidernet.io/ippool-cidr",
} as const;

/**
 * `auto{4|6}-{app name}-{interface}-{first 5 chars of the app uid's last segment}`, cut to
 * 253 characters (Spiderpool's naming, so its auto pools and ours are interchangeable).
 */
export function autoPoolName(family: Family, app: Pick<Application, "name" | "uid">, iface: string): string {
  const tail = (app.uid.split("-").pop() ?? app.uid).slice(0, 5);
  const name = `auto${family}-${app.name}-${iface}-${tail}`.toLowerCase();
  if (name.length <= 253) return name;
  const suffix = `-${iface}-${tail}`;
  return `auto${family}-${app.name}`.slice(0, 253 - suffix.length).replace(/[-.]+$/, "") + suffix;
}

/** Label values cannot hold "/" or ":". */
const labelValue = (v: string): string => v.replace(/[/:]/g, "-");

/** Where an automatic pool's addresses come from and what happens to it with its application. */
export interface AutoPoolOrigin {
  /** The NIC the pool serves. */
  interface: string;
  /** The SpiderSubnet the pool is carved from, and its CIDR. */
  subnet: string;
  cidr: CIDR;
  /** Whether the pool goes when its application does. */
  reclaim: boolean;
}

export function autoPoolLabels(app: Application, origin: AutoPoolOrigin): Record<string, string> {
  const L = AUTO_POOL_LABELS;
  return {
    [L.gv]: labelValue(app.apiVersion.replace("/", "_")),
    [L.kind]: app.kind,
    [L.namespace]: app.namespace,
    [L.name]: app.name.slice(0, 63),
    [L.uid]: app.uid,
    [L.subnet]: origin.subnet.slice(0, 63),
    [L.interface]: origin.interface,
    [L.ipVersion]: `IPv${origin.cidr.family}`,
    [L.reclaim]: String(origin.reclaim),
    [L.cidr]: labelValue(formatCIDR(origin.cidr)),
  };
}

/** The `count` lowest addresses of `free` (fewer when it has fewer). */
export function lowest(free: IPSet, count: number): IPSet {
  const out: IPRange[] = [];
  let left = BigInt(count);
  for (const r of free.ranges) {
    if (left <= 0n) break;
    const size = r.end - r.start + 1n;
    const take = size < left ? size : left;
    out.push({ start: r.start, end: r.start + take - 1n });
    left -= take;
  }
  return IPSet.of(free.family, out);
}
