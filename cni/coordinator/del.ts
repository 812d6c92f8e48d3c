/**
 * DEL: remove exactly what ADD made for this NIC, found again by name (the host veth), by
 * table and by the coordinator's protocol tag (routes and rules). Idempotent: whatever is
 * already gone is skipped, and a Pod namespace that no longer exists only leaves the
 * node's side to clean.
 */
import { hostPrefix } from "./addr.js";
import type { RunContext } from "./context.js";
import { POD_VETH, ROUTE_PROTO, hostVethName, podTableOf } from "./names.js";
import { type NetState, applyBestEffort, forFamily, readNetState } from "./netstate.js";
import { type NicAddress, nicAddresses } from "./prev-result.js";

const isDefault = (dst: string): boolean => dst === "0.0.0.0/0" || dst === "::/0";

export function cmdDel(ctx: RunContext): void {
  const pod = tryRead(ctx, ctx.env.netns);
  let addresses: NicAddress[] = [];
  if (ctx.conf.prevResult !== undefined) addresses = nicAddresses(ctx.conf.prevResult, ctx.env.ifName);
  else if (pod) addresses = pod.addrs.filter((a) => a.link === ctx.env.ifName && a.scope === "global").map((a) => ({ family: a.family, ip: a.local, prefix: a.prefix }));
  const left = removeNic(ctx, addresses, pod);
  if (left.length > 0) ctx.log.warn("some clean-up commands failed (usually: already gone)", { errors: left });
  ctx.log.info("routes removed", { ips: addresses.map((a) => a.ip) });
}

function tryRead(ctx: RunContext, netns: string): NetState | undefined {
  if (netns === "") return undefined;
  try {
    return readNetState(ctx.tools, netns);
  } catch (err) {
    ctx.log.info("the Pod's namespace cannot be read: cleaning the node's side only", { netns, error: String(err) });
    return undefined;
  }
}

/** Removes this NIC's objects on the node and in the Pod; returns the errors it skipped. */
export function removeNic(ctx: RunContext, addresses: readonly NicAddress[], pod = tryRead(ctx, ctx.env.netns)): string[] {
  const first = ctx.env.ifName === ctx.conf.podDefaultCniNic;
  const host = readNetState(ctx.tools, undefined);
  // Deleting one end of the veth pair deletes the other: whichever exists goes, once.
  const hostVeth = host.links.some((l) => l.name === hostVethName(ctx.env.containerID));
  const errors = applyBestEffort(ctx.tools, undefined, hostLines(ctx, host, addresses, first));
  if (pod) errors.push(...applyBestEffort(ctx.tools, ctx.env.netns, podLines(ctx, pod, first, !hostVeth)));
  return errors;
}

function hostLines(ctx: RunContext, host: NetState, addresses: readonly NicAddress[], first: boolean): string[] {
  const hostName = hostVethName(ctx.env.containerID);
  const table = String(ctx.settings.hostRuleTable);
  const dsts = new Set(addresses.map((a) => hostPrefix(a.ip)));
  const viaVeth = host.routes.filter((r) => r.table === table && r.dev === hostName);
  // The first NIC's DEL takes the veth away, and with it every route of the Pod's other NICs.
  if (first) for (const r of viaVeth) dsts.add(r.dst);
  const lines = host.rules
    .filter((r) => r.table === table && r.protocol === ROUTE_PROTO && r.dst !== undefined && dsts.has(r.dst))
    .map((r) => forFamily(r.family, `rule del to ${r.dst} priority ${r.priority} lookup ${r.table}`));
  if (first) {
    if (host.links.some((l) => l.name === hostName)) lines.push(`link del ${hostName}`);
    return lines;
  }
  for (const r of viaVeth.filter((x) => dsts.has(x.dst))) lines.push(`route del ${r.dst} dev ${hostName} table ${table}`);
  for (const a of addresses) if (host.links.some((l) => l.name === hostName)) lines.push(`neigh del ${a.ip} dev ${hostName}`);
  return lines;
}

function podLines(ctx: RunContext, pod: NetState, first: boolean, dropVeth: boolean): string[] {
  const nic = ctx.env.ifName;
  const table = podTableOf(nic);
  const lines: string[] = [];
  if (table !== undefined) {
    const t = String(table);
    for (const r of pod.rules.filter((x) => x.table === t && x.protocol === ROUTE_PROTO)) lines.push(forFamily(r.family, `rule del from ${r.src ?? "all"} priority ${r.priority} lookup ${t}`));
    for (const family of [4, 6] as const) {
      if (pod.routes.some((r) => r.family === family && r.table === t && r.protocol === ROUTE_PROTO)) lines.push(forFamily(family, `route flush table ${t} proto ${ROUTE_PROTO}`));
    }
  }
  if (first) {
    if (dropVeth && pod.links.some((l) => l.name === POD_VETH)) lines.push(`link del ${POD_VETH}`);
    return lines;
  }
  // This NIC held the default route (podDefaultRouteNIC): give it back to the first NIC.
  const firstTable = String(podTableOf(ctx.conf.podDefaultCniNic) ?? "");
  for (const r of pod.routes.filter((x) => x.table === "main" && x.dev === nic && x.protocol === ROUTE_PROTO && isDefault(x.dst))) {
    const back = pod.routes.find((x) => x.table === firstTable && x.family === r.family && isDefault(x.dst) && x.gateway !== undefined);
    lines.push(back ? `route replace ${r.dst} via ${back.gateway} dev ${back.dev} table main` : `route del ${r.dst} dev ${nic} table main`);
  }
  return lines;
}
