/**
 * What the coordinator wants to exist, as plain objects: routes, rules and neighbour
 * entries, on the node and in the Pod. ADD turns them into `ip` lines, CHECK looks for
 * them in a NetState, DEL removes them. Pure.
 */
import { type Cidr, type Family, hostPrefix, networkOf } from "./addr.js";
import { HOST_RULE_PRIORITY, POD_VETH, ROUTE_PROTO } from "./names.js";
import { type NetState, type Route, forFamily } from "./netstate.js";
import type { NicAddress } from "./prev-result.js";

export interface RouteSpec {
  dst: string;
  via?: string;
  dev: string;
  /** "main" or a number. */
  table: string;
  scope?: "link";
  src?: string;
}

export interface RuleSpec {
  to?: string;
  from?: string;
  table: string;
  priority: number;
}

export interface NeighSpec {
  ip: string;
  mac: string;
  dev: string;
}

export interface Objects {
  routes: RouteSpec[];
  rules: RuleSpec[];
  neighs: NeighSpec[];
}

export const routeLine = (r: RouteSpec, verb: "replace" | "del"): string =>
  [`route ${verb} ${r.dst}`, r.via ? `via ${r.via}` : "", `dev ${r.dev}`, r.scope ? `scope ${r.scope}` : "", r.src ? `src ${r.src}` : "", `table ${r.table} proto ${ROUTE_PROTO}`]
    .filter((s) => s !== "")
    .join(" ");

export const ruleLine = (r: RuleSpec, verb: "add" | "del"): string =>
  forFamily((r.to ?? r.from ?? "").includes(":") ? 6 : 4, `rule ${verb} ${r.to ? `to ${r.to}` : `from ${r.from}`} priority ${r.priority} lookup ${r.table} protocol ${ROUTE_PROTO}`);

export const neighLine = (n: NeighSpec, verb: "replace" | "del"): string =>
  verb === "replace" ? `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent` : `neigh del ${n.ip} dev ${n.dev}`;

/** Lines that make `o` exist; rules already present are skipped (ip rule has no replace). */
export function addLines(o: Objects, state: NetState): string[] {
  return [
    ...o.routes.map((r) => routeLine(r, "replace")),
    ...o.rules.filter((r) => !hasRule(state, r)).map((r) => ruleLine(r, "add")),
    ...o.neighs.map((n) => neighLine(n, "replace")),
  ];
}

export function hasRoute(state: NetState, r: RouteSpec): boolean {
  return state.routes.some((x) => x.table === r.table && x.dst === r.dst && x.dev === r.dev && x.gateway === r.via);
}

export function hasRule(state: NetState, r: RuleSpec): boolean {
  return state.rules.some((x) => x.priority === r.priority && x.table === r.table && x.dst === r.to && x.src === r.from);
}

/** What `o` lacks in `state`, one phrase per missing object (neighbour entries are not checked). */
export function missing(o: Objects, state: NetState, where: string): string[] {
  return [
    ...o.routes.filter((r) => !hasRoute(state, r)).map((r) => `route ${r.dst}${r.via ? ` via ${r.via}` : ""} dev ${r.dev} table ${r.table} in ${where}`),
    ...o.rules.filter((r) => !hasRule(state, r)).map((r) => `rule ${r.to ? `to ${r.to}` : `from ${r.from}`} lookup ${r.table} in ${where}`),
  ];
}

/** The node's way back to the Pod: "to <address> lookup <table>" and "<address> dev <host veth>" there. */
export function hostObjects(addresses: readonly Cidr[], hostVeth: string, podVethMac: string, table: number): Objects {
  const t = String(table);
  return {
    routes: addresses.map((a) => ({ dst: hostPrefix(a.ip), dev: hostVeth, table: t, scope: "link" })),
    rules: addresses.map((a) => ({ to: hostPrefix(a.ip), table: t, priority: HOST_RULE_PRIORITY })),
    neighs: addresses.map((a) => ({ ip: a.ip, mac: podVethMac, dev: hostVeth })),
  };
}

/**
 * The Pod's way to the node: each node address through veth0, and the hijacked CIDRs
 * (Services, overlay Pods, extras) via the node's first address of their family. A family
 * the Pod has no address of is skipped: the Pod could not send from it anyway.
 */
export function podVethObjects(nodeAddresses: readonly string[], hijack: readonly Cidr[], families: ReadonlySet<Family>, hostVethMac: string): Objects {
  const family = (ip: string): Family => (ip.includes(":") ? 6 : 4);
  const nodes = nodeAddresses.filter((ip) => families.has(family(ip)));
  const gateway = (f: Family): string | undefined => nodes.find((ip) => family(ip) === f);
  const routes: RouteSpec[] = nodes.map((ip) => ({ dst: hostPrefix(ip), dev: POD_VETH, table: "main", scope: "link" }));
  for (const c of hijack) {
    const via = gateway(c.family);
    if (via !== undefined && families.has(c.family)) routes.push({ dst: networkOf(c), via, dev: POD_VETH, table: "main" });
  }
  return { routes, rules: [], neighs: nodes.map((ip) => ({ ip, mac: hostVethMac, dev: POD_VETH })) };
}

/** A route as it stands, as a spec for another table. */
function copyTo(r: Route, table: string): RouteSpec {
  const spec: RouteSpec = { dst: r.dst, dev: r.dev ?? "", table };
  if (r.gateway !== undefined) spec.via = r.gateway;
  if (r.scope === "link") spec.scope = "link";
  if (r.prefsrc !== undefined) spec.src = r.prefsrc;
  return spec;
}

const isDefault = (dst: string): boolean => dst === "0.0.0.0/0" || dst === "::/0";

/**
 * A NIC's own table: its routes from the main table (connected subnet, gateway, pool
 * routes), a default route via its gateway when it has none there (a secondary NIC's IPAM
 * result usually has no default route), and the coordinator's veth0 routes, so that
 * replies from its addresses to the node and to Services still go through veth0. Rules:
 * "from <address> lookup <table>", so whatever leaves from this NIC's address leaves by it.
 */
export function nicTableObjects(state: NetState, nic: string, addresses: readonly NicAddress[], table: number): Objects {
  const t = String(table);
  const main = state.routes.filter((r) => r.table === "main" && r.type === "unicast");
  const own = main.filter((r) => r.dev === nic && r.protocol !== ROUTE_PROTO).map((r) => copyTo(r, t));
  for (const a of addresses) {
    const gw = a.gateway;
    if (gw !== undefined && !own.some((r) => isDefault(r.dst) && r.dst.includes(":") === (a.family === 6))) {
      own.push({ dst: a.family === 4 ? "0.0.0.0/0" : "::/0", via: gw, dev: nic, table: t });
    }
  }
  const veth = main.filter((r) => r.dev === POD_VETH && r.protocol === ROUTE_PROTO).map((r) => copyTo(r, t));
  return {
    routes: [...own, ...veth],
    rules: addresses.map((a) => ({ from: hostPrefix(a.ip), table: t, priority: table })),
    neighs: [],
  };
}
