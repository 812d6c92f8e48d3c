/**
 * One namespace's links, addresses, routes and rules, read with two `ip -j -batch` runs
 * (one per family: a batch line cannot carry `-6`), and changes applied as one `ip -batch`
 * run that stops at the first failure and names it.
 */
import { type Family, canonicalDst, canonicalIP } from "./addr.js";
import { type HostTools, commandFailed } from "./host-tools.js";

export interface Link {
  index: number;
  name: string;
  mtu: number;
  mac: string;
  up: boolean;
  alias?: string;
}

export interface Addr {
  link: string;
  family: Family;
  local: string;
  prefix: number;
  scope: string;
  tentative: boolean;
  dadfailed: boolean;
}

export interface Route {
  family: Family;
  table: string;
  /** Canonical CIDR ("0.0.0.0/0" for default). */
  dst: string;
  gateway?: string;
  dev?: string;
  protocol: string;
  type: string;
  scope?: string;
  prefsrc?: string;
}

export interface Rule {
  family: Family;
  priority: number;
  /** Canonical CIDR, or undefined for "all". */
  src?: string;
  dst?: string;
  table: string;
  protocol?: string;
}

export interface NetState {
  links: Link[];
  addrs: Addr[];
  routes: Route[];
  rules: Rule[];
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function batchJson(tools: HostTools, netns: string | undefined, family: Family, lines: string[]): Json[][] {
  const res = tools.run(netns, "ip", [`-${family}`, "-j", "-batch", "-"], lines.join("\n") + "\n");
  if (res.status !== 0) throw commandFailed(netns, `ip -${family} -j -batch (${lines.join("; ")})`, res.stderr);
  return res.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Json[]);
}

/** Reads the namespace at `netns` (undefined: the plugin's own, the node's). */
export function readNetState(tools: HostTools, netns: string | undefined): NetState {
  const [links = [], addrs = [], routes4 = [], rules4 = []] = batchJson(tools, netns, 4, ["link show", "addr show", "route show table all", "rule show"]);
  const [addrs6 = [], routes6 = [], rules6 = []] = batchJson(tools, netns, 6, ["addr show", "route show table all", "rule show"]);
  return {
    links: links.map(readLink),
    addrs: [...addrs, ...addrs6].flatMap(readAddrs).filter((a, i, all) => all.findIndex((b) => b.link === a.link && b.local === a.local) === i),
    routes: [...routes4.map((r) => readRoute(r, 4)), ...routes6.map((r) => readRoute(r, 6))],
    rules: [...rules4.map((r) => readRule(r, 4)), ...rules6.map((r) => readRule(r, 6))],
  };
}

/** The links alone: one `ip -j link show`. */
export function readLinks(tools: HostTools, netns: string | undefined): Link[] {
  return (batchJson(tools, netns, 4, ["link show"])[0] ?? []).map(readLink);
}

function readLink(j: Json): Link {
  const link: Link = {
    index: Number(j.ifindex),
    name: str(j.ifname) ?? "",
    mtu: Number(j.mtu),
    mac: str(j.address) ?? "",
    up: Array.isArray(j.flags) && j.flags.includes("UP"),
  };
  const alias = str(j.ifalias);
  if (alias !== undefined) link.alias = alias;
  return link;
}

function readAddrs(j: Json): Addr[] {
  const info = Array.isArray(j.addr_info) ? (j.addr_info as Json[]) : [];
  return info
    .filter((a) => a.family === "inet" || a.family === "inet6")
    .map((a) => ({
      link: str(j.ifname) ?? "",
      family: a.family === "inet" ? 4 : 6,
      local: canonicalIP(str(a.local) ?? "") ?? "",
      prefix: Number(a.prefixlen),
      scope: str(a.scope) ?? "",
      tentative: a.tentative === true,
      dadfailed: a.dadfailed === true,
    }));
}

function readRoute(j: Json, family: Family): Route {
  const route: Route = {
    family,
    table: str(j.table) ?? "main",
    dst: canonicalDst(str(j.dst) ?? "default", family),
    protocol: str(j.protocol) ?? "boot",
    type: str(j.type) ?? "unicast",
  };
  const gateway = str(j.gateway);
  if (gateway !== undefined) route.gateway = canonicalIP(gateway) ?? gateway;
  for (const key of ["dev", "scope", "prefsrc"] as const) {
    const v = str(j[key]);
    if (v !== undefined) route[key] = v;
  }
  return route;
}

function readRule(j: Json, family: Family): Rule {
  const rule: Rule = { family, priority: Number(j.priority), table: str(j.table) ?? "" };
  const cidr = (addr: unknown, len: unknown): string | undefined => {
    const a = str(addr);
    if (a === undefined || a === "all") return undefined;
    return canonicalDst(typeof len === "number" ? `${a}/${len}` : a, family);
  };
  const src = cidr(j.src, j.srclen);
  const dst = cidr(j.dst, j.dstlen);
  if (src !== undefined) rule.src = src;
  if (dst !== undefined) rule.dst = dst;
  const protocol = str(j.protocol);
  if (protocol !== undefined) rule.protocol = protocol;
  return rule;
}

/**
 * A line for the IPv6 batch: `ip rule` and `ip route flush` do not infer the family from
 * their arguments, and a batch line cannot carry `-6`, so such lines are marked and run
 * in a batch of their own.
 */
export const forFamily = (family: Family, line: string): string => (family === 6 ? `-6 ${line}` : line);

/** [ip's family flag, lines]: unmarked lines run without one (ip infers it from each address). */
function byFamily(lines: readonly string[]): [string[], string[]][] {
  const v6 = lines.filter((l) => l.startsWith("-6 ")).map((l) => l.slice(3));
  const rest = lines.filter((l) => !l.startsWith("-6 "));
  return ([[[], rest], [["-6"], v6]] as [string[], string[]][]).filter(([, ls]) => ls.length > 0);
}

/**
 * Runs `lines` as `ip -batch` in `netns` (one run per family). On failure the error names
 * the line that failed (ip prints "Command failed -:N") and quotes ip's message.
 */
export function applyLines(tools: HostTools, netns: string | undefined, lines: readonly string[]): void {
  for (const [flag, batch] of byFamily(lines)) {
    const res = tools.run(netns, "ip", [...flag, "-batch", "-"], batch.join("\n") + "\n");
    if (res.status === 0) continue;
    const at = /Command failed -:(\d+)/.exec(res.stderr);
    const line = at ? batch[Number(at[1]) - 1] : undefined;
    const ip = ["ip", ...flag].join(" ");
    throw commandFailed(netns, line !== undefined ? `${ip} ${line}` : `${ip} -batch (${batch.join("; ")})`, res.stderr);
  }
}

/** Like applyLines, going on past failures: for clean-up, where "already gone" is fine. Returns ip's complaints. */
export function applyBestEffort(tools: HostTools, netns: string | undefined, lines: readonly string[]): string[] {
  const errors: string[] = [];
  for (const [flag, batch] of byFamily(lines)) {
    const res = tools.run(netns, "ip", [...flag, "-force", "-batch", "-"], batch.join("\n") + "\n");
    if (res.status !== 0) errors.push(...res.stderr.split("\n").filter((l) => l.trim() !== ""));
  }
  return errors;
}
