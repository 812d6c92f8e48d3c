/**
 * ADD, after the main plugin: refuse a conflicting address before touching anything, then
 * make the veth pair (first NIC), the node's routes back to the Pod, the Pod's routes to
 * the node and the Services, and per-NIC tables (secondary NICs). Whatever fails half-way
 * is undone before the error is printed, so a refused ADD leaves nothing behind.
 */
import { type Family, ipBytes } from "./addr.js";
import { CniError, invalidConfig } from "../errors.js";
import { CNI_ERROR_CODES } from "../protocol.js";
import { COORDINATOR_ERROR_CODES } from "./codes.js";
import type { RunContext } from "./context.js";
import { notChained } from "./config.js";
import { detectGateways, detectIPConflicts } from "./detect.js";
import { removeNic } from "./del.js";
import { POD_VETH, ROUTE_PROTO, hostVethName, podTableOf } from "./names.js";
import { type NetState, applyLines, readNetState } from "./netstate.js";
import { addLines, hostObjects, nicTableObjects, podVethObjects } from "./plan.js";
import { type NicAddress, nicAddresses, outputResult } from "./prev-result.js";
import { ensureVeth } from "./veth.js";

export function cmdAdd(ctx: RunContext): Record<string, unknown> {
  const { conf, env, settings } = ctx;
  if (conf.prevResult === undefined) throw notChained("ADD");
  if (settings.mode === "disabled") return outputResult(conf.prevResult, conf.cniVersion, env.ifName);
  const addresses = nicAddresses(conf.prevResult, env.ifName);
  if (addresses.length === 0) throw invalidConfig(`prevResult has no address for ${env.ifName}`, "the main plugin's IPAM gave this NIC no address: the coordinator has nothing to route");
  const first = env.ifName === conf.podDefaultCniNic;
  checkMode(ctx, first);
  const detect = { tools: ctx.tools, netns: env.netns, nic: env.ifName, opts: conf.detect, log: ctx.log };
  if (settings.detectGateway) detectGateways(detect, addresses);
  if (settings.detectIPConflict) detectIPConflicts(detect, addresses);
  try {
    const mac = settings.podMACPrefix ? setMacPrefix(ctx, addresses, settings.podMACPrefix) : undefined;
    setUpNic(ctx, addresses, first);
    ctx.log.info("routes set", { ips: addresses.map((a) => a.ip), first });
    return outputResult(conf.prevResult, conf.cniVersion, env.ifName, mac);
  } catch (err) {
    const left = removeNic(ctx, addresses);
    if (left.length > 0) ctx.log.warn("undoing a failed ADD left errors", { errors: left });
    throw err;
  }
}

/** auto: underlay for the first NIC, and for later NICs when the first one made veth0. */
function checkMode(ctx: RunContext, first: boolean): void {
  let mode = ctx.settings.mode;
  if (mode === "auto") mode = first || readNetState(ctx.tools, ctx.env.netns).links.some((l) => l.name === POD_VETH) ? "underlay" : "overlay";
  if (mode === "overlay") {
    throw new CniError(
      CNI_ERROR_CODES.UNSUPPORTED_FIELD,
      `mode overlay is not supported by this coordinator (${ctx.settings.mode === "auto" ? `auto chose it: ${ctx.env.ifName} is not the first NIC and the Pod has no ${POD_VETH}` : "set in the config"})`,
      `use mode underlay with the coordinator on the Pod's first NIC too, or mode disabled for this network (docs/coordinator.md)`,
    );
  }
  if (!first && !readNetState(ctx.tools, ctx.env.netns).links.some((l) => l.name === POD_VETH)) {
    throw new CniError(
      COORDINATOR_ERROR_CODES.POD_STATE,
      `${ctx.env.ifName}: the Pod has no ${POD_VETH}, which the coordinator makes for the first NIC (${ctx.conf.podDefaultCniNic})`,
      "chain the coordinator in the first NIC's network too, or set podDefaultCniNic to the Pod's first NIC",
    );
  }
}

/** podMACPrefix: two fixed bytes and the last four of the NIC's address (its IPv4 one first). */
function setMacPrefix(ctx: RunContext, addresses: readonly NicAddress[], prefix: string): string {
  const source = addresses.find((a) => a.family === 4) ?? addresses[0];
  const tail = ipBytes(source?.ip ?? "0.0.0.0").slice(-4);
  const mac = `${prefix}:${tail.map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
  applyLines(ctx.tools, ctx.env.netns, [`link set dev ${ctx.env.ifName} address ${mac}`]);
  return mac;
}

function setUpNic(ctx: RunContext, addresses: readonly NicAddress[], first: boolean): void {
  const { tools, env, settings } = ctx;
  const hostName = hostVethName(env.containerID);
  const ends = first ? ensureVeth({ tools, netns: env.netns, containerID: env.containerID, conf: ctx.conf, settings, pid: ctx.pid }, env.ifName) : undefined;
  const host = ends?.hostState ?? readNetState(tools, undefined);
  const hostVeth = host.links.find((l) => l.name === hostName);
  const pod = ends?.podState ?? readNetState(tools, env.netns);
  const podVeth = pod.links.find((l) => l.name === POD_VETH);
  if (hostVeth === undefined || podVeth === undefined) {
    throw new CniError(COORDINATOR_ERROR_CODES.POD_STATE, `the veth pair ${hostName}/${POD_VETH} of this Pod is missing`, "the first NIC's coordinator run made it; DEL and re-ADD the Pod's sandbox");
  }
  applyLines(tools, undefined, addLines(hostObjects(addresses, hostName, podVeth.mac, settings.hostRuleTable), host));
  if (first) {
    const families = new Set<Family>(addresses.map((a) => a.family));
    const nodeAddresses = host.addrs.filter((a) => a.scope === "global" && !a.tentative && !a.dadfailed).map((a) => a.local);
    applyLines(tools, env.netns, addLines(podVethObjects(nodeAddresses, settings.hijack, families, hostVeth.mac), pod));
  }
  setRPFilters(ctx, hostName, first);
  if (settings.tunePodRoutes && !first) tunePodRoutes(ctx, addresses);
}

function setRPFilters(ctx: RunContext, hostName: string, first: boolean): void {
  const { hostRPFilter, podRPFilter } = ctx.settings;
  const sysctl = (netns: string | undefined, keys: string[], value: number): void => {
    const args = ["-q", "-w", ...keys.map((k) => `net/ipv4/conf/${k}/rp_filter=${value}`)];
    const res = ctx.tools.run(netns, "sysctl", args);
    if (res.status !== 0) throw new CniError(COORDINATOR_ERROR_CODES.COMMAND_FAILED, `'sysctl ${args.join(" ")}' failed`, res.stderr.trim());
  };
  if (first && hostRPFilter >= 0) sysctl(undefined, [hostName], hostRPFilter);
  if (podRPFilter >= 0) sysctl(ctx.env.netns, ["all", ctx.env.ifName, ...(first ? [POD_VETH] : [])], podRPFilter);
}

/** The table of a NIC; two NICs of one Pod must not share one. */
function tableOf(nic: string, pod: NetState): number {
  const table = podTableOf(nic);
  if (table === undefined) {
    throw new CniError(COORDINATOR_ERROR_CODES.POD_STATE, `cannot choose a routing table for ${nic}: its name does not end in a number`, "name the Pod's NICs eth0, net1, net2, ... (Multus does), or set tunePodRoutes: false");
  }
  const clash = pod.links.find((l) => l.name !== nic && podTableOf(l.name) === table && pod.addrs.some((a) => a.link === l.name && a.scope === "global"));
  if (clash) throw new CniError(COORDINATOR_ERROR_CODES.POD_STATE, `${nic} and ${clash.name} would share routing table ${table}`, "give the Pod's NICs names whose numbers differ (eth0, net1, net2, ...), or set tunePodRoutes: false");
  return table;
}

/**
 * Multi-NIC: each NIC gets a table and "from <its addresses>" rules, the first NIC too (it
 * is set up here, when a second NIC shows up), and the default route in the main table
 * belongs to podDefaultRouteNIC (the first NIC unless set).
 */
function tunePodRoutes(ctx: RunContext, addresses: readonly NicAddress[]): void {
  const { tools, env, conf, settings } = ctx;
  const firstNic = conf.podDefaultCniNic;
  let pod = readNetState(tools, env.netns);
  const firstAddrs = pod.addrs.filter((a) => a.link === firstNic && a.scope === "global").map((a) => ({ family: a.family, ip: a.local, prefix: a.prefix }));
  if (firstAddrs.length > 0) applyLines(tools, env.netns, addLines(nicTableObjects(pod, firstNic, firstAddrs, tableOf(firstNic, pod)), pod));
  pod = readNetState(tools, env.netns);
  applyLines(tools, env.netns, addLines(nicTableObjects(pod, env.ifName, addresses, tableOf(env.ifName, pod)), pod));
  const owner = settings.podDefaultRouteNIC ?? firstNic;
  const lines: string[] = [];
  if (owner === env.ifName) {
    for (const a of addresses) if (a.gateway) lines.push(`route replace default via ${a.gateway} dev ${env.ifName} table main proto ${ROUTE_PROTO}`);
  } else {
    for (const r of pod.routes) if (r.table === "main" && r.dev === env.ifName && (r.dst === "0.0.0.0/0" || r.dst === "::/0")) lines.push(`route del ${r.dst} dev ${env.ifName} table main`);
  }
  applyLines(tools, env.netns, [...new Set(lines)]);
}
