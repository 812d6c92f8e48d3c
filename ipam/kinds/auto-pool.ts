import { formatCIDR, type CIDR } from "../address/cidr.js";
import type { Family } from "../address/ip.js";
import { IPSet } from "../address/ipset.js";
import type { IPRange } from "../address/range.js";
import { ANNO_IPPOOL_IP_NUMBER, ANNO_IPPOOL_RECLAIM } from "../annotations/keys.js";
import { autoPoolSize, parsePoolIPNumber, parseReclaim, type PoolIPNumber } from "../annotations/scalars.js";
import { IpamError } from "../errors.js";
import type { SpiderIPPool } from "./ippool.js";

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
 * (ext) When the pool was bound to its current application (created for it, or taken over
 * from an earlier one of the same kind, namespace and name): an application younger than
 * that may not be readable yet, so its pool is not judged orphaned before a grace period.
 */
/** Spiderpool's annotation naming an automatic pool's application in full: `apps/v1:Deployment:ns:name` (labels cut names to 63 characters). */
export const AUTO_POOL_APPLICATION = "ipam.spidernet.io/application";

export const formatApplication = (app: Pick<Application, "apiVersion" | "kind" | "namespace" | "name">): string => `${app.apiVersion}:${app.kind}:${app.namespace}:${app.name}`;

/** `apps/v1:Deployment:ns:name` (an apiVersion without a group has no "/"). */
function parseApplication(text: string | undefined): Pick<Application, "apiVersion" | "kind" | "namespace" | "name"> | undefined {
  const m = /^([^:]+):([^:]+):([^:]+):([^:]+)$/.exec(text ?? "");
  return m ? { apiVersion: m[1] as string, kind: m[2] as string, namespace: m[3] as string, name: m[4] as string } : undefined;
}

export const AUTO_POOL_BOUND_AT = "ipam.spidernet.io/owner-application-since";

/**
 * (ext) When the pool was last grown (or made): the application's admission grows it
 * before the application's change is in the caches, so a pool grown less than a grace ago
 * is not shrunk on what the caches say the application wants.
 */
export const AUTO_POOL_SIZED_AT = "ipam.spidernet.io/sized-at";

function nameWith(family: Family, app: Pick<Application, "name">, iface: string, tail: string): string {
  const name = `auto${family}-${app.name}-${iface}-${tail}`.toLowerCase();
  if (name.length <= 253) return name;
  const suffix = `-${iface}-${tail}`.toLowerCase();
  return `auto${family}-${app.name}`.toLowerCase().slice(0, 253 - suffix.length).replace(/[-.]+$/, "") + suffix;
}

/**
 * `auto{4|6}-{app name}-{interface}-{first 5 chars of the app uid's last segment}`, cut to
 * 253 characters (Spiderpool's naming, so its auto pools and ours are interchangeable).
 */
export function autoPoolName(family: Family, app: Pick<Application, "name" | "uid">, iface: string): string {
  return autoPoolNames(family, app, iface)[0] as string;
}

/**
 * The names an application's pool may take, in order: Spiderpool's, then with the uid's
 * whole last segment, then with the whole uid. A name already held by another
 * application's pool (same name in another namespace, five characters of uid alike) is
 * passed over for the next.
 */
export function autoPoolNames(family: Family, app: Pick<Application, "name" | "uid">, iface: string): string[] {
  const last = app.uid.split("-").pop() ?? app.uid;
  return [...new Set([last.slice(0, 5), last, app.uid].map((tail) => nameWith(family, app, iface, tail)))];
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

/** Who an automatic pool belongs to and what it serves, read back from its labels. */
export interface AutoPoolOwner extends Application {
  interface: string;
  family: Family;
  subnet: string;
  reclaim: boolean;
}

/** An automatic pool's owner, or undefined for a pool that is not one (no owner uid label). */
export function autoPoolOwner(pool: Pick<SpiderIPPool, "metadata">): AutoPoolOwner | undefined {
  const l = pool.metadata.labels ?? {};
  const L = AUTO_POOL_LABELS;
  const [uid, kind, namespace, name] = [l[L.uid], l[L.kind], l[L.namespace], l[L.name]];
  if (!uid || !kind || !name || !namespace) return undefined;
  // "apps_v1" -> "apps/v1", "v1" stays; a group never holds "_".
  const fromLabels = { apiVersion: (l[L.gv] ?? "").replace("_", "/"), kind, namespace, name };
  return {
    ...(parseApplication(pool.metadata.annotations?.[AUTO_POOL_APPLICATION]) ?? fromLabels),
    uid,
    interface: l[L.interface] ?? "",
    family: l[L.ipVersion] === "IPv6" ? 6 : 4,
    subnet: l[L.subnet] ?? "",
    reclaim: l[L.reclaim] !== "false",
  };
}

/** Whether an automatic pool is the one of `app` for this NIC and family. */
export function servesApplication(pool: Pick<SpiderIPPool, "metadata">, app: Pick<Application, "uid">, iface: string, family: Family): boolean {
  const o = autoPoolOwner(pool);
  return o !== undefined && o.uid === app.uid && o.interface === iface && o.family === family;
}

/** The most addresses an automatic pool may hold, and where that limit is set (for the refusal). */
export interface PoolSizeLimit {
  count: number;
  setting: string;
}

/** What an application's pool annotations ask for: the size rule and whether the pool goes with it. */
export interface AutoPoolRequest {
  number: PoolIPNumber;
  reclaim: boolean;
}

/** Reads ippool-ip-number (default: `+defaultSpare`) and ippool-reclaim (default true); AnnotationError when malformed. */
export function autoPoolRequest(annotations: Readonly<Record<string, string>>, defaultSpare: number): AutoPoolRequest {
  const n = annotations[ANNO_IPPOOL_IP_NUMBER];
  const r = annotations[ANNO_IPPOOL_RECLAIM];
  return {
    number: n !== undefined ? parsePoolIPNumber(n) : { flexible: true, count: defaultSpare },
    reclaim: r !== undefined ? parseReclaim(r) : true,
  };
}

/**
 * The size of `app`'s pool when it wants `wanted` Pods, refused (POOL_TOO_LARGE, naming the
 * limit and its setting) beyond `limit`: a mistyped ippool-ip-number must not carve a whole
 * subnet into one pool.
 */
export function autoPoolSizeWithin(req: AutoPoolRequest, wanted: number, limit: PoolSizeLimit, app: Pick<Application, "kind" | "namespace" | "name">): number {
  const size = autoPoolSize(req.number, wanted);
  if (size <= limit.count) return size;
  const why = req.number.flexible
    ? `${app.kind} ${app.namespace}/${app.name} wants ${wanted} Pods plus ${req.number.count} spare addresses (${ANNO_IPPOOL_IP_NUMBER} "+${req.number.count}"), ${size} in all`
    : `annotation ${ANNO_IPPOOL_IP_NUMBER} "${req.number.count}" of ${app.kind} ${app.namespace}/${app.name} asks for ${size} addresses`;
  return refuseSize(why, size, limit);
}

function refuseSize(why: string, size: number, limit: PoolSizeLimit): never {
  throw new IpamError(
    "POOL_TOO_LARGE",
    `${why}; an automatic pool holds at most ${limit.count} addresses (${limit.setting}): lower the replicas or ${ANNO_IPPOOL_IP_NUMBER}, or create a SpiderIPPool of the size needed and name it with ipam.spidernet.io/ippool`,
    { size, limit: limit.count },
  );
}

/** The `count` highest addresses of `set` (fewer when it has fewer): what a shrinking pool gives back first. */
export function highest(set: IPSet, count: number): IPSet {
  const out: IPRange[] = [];
  let left = BigInt(count);
  for (let i = set.ranges.length - 1; i >= 0 && left > 0n; i--) {
    const r = set.ranges[i] as IPRange;
    const size = r.end - r.start + 1n;
    const take = size < left ? size : left;
    out.push({ start: r.end - take + 1n, end: r.end });
    left -= take;
  }
  return IPSet.of(set.family, out);
}
