/**
 * CHECK, GC and STATUS. CHECK looks for everything ADD makes for this NIC and names what is
 * missing; GC removes host veths (and their rules) of this network whose containers the
 * runtime no longer lists; STATUS says whether the tools the config needs are installed.
 */
import { type Family } from "./addr.js";
import { CniError } from "../errors.js";
import { CNI_ERROR_CODES } from "../protocol.js";
import { COORDINATOR_ERROR_CODES } from "./codes.js";
import { notChained } from "./config.js";
import type { RunContext } from "./context.js";
import { type Tool, toolMissing } from "./host-tools.js";
import { POD_VETH, ROUTE_PROTO, containerOfAlias, hostVethName, podTableOf } from "./names.js";
import { applyBestEffort, forFamily, readNetState } from "./netstate.js";
import { hostObjects, missing, nicTableObjects, podVethObjects } from "./plan.js";
import { nicAddresses } from "./prev-result.js";

const checkFailed = (what: string, details = ""): CniError => new CniError(COORDINATOR_ERROR_CODES.CHECK_FAILED, what, details);

export function cmdCheck(ctx: RunContext): void {
  const { conf, env, settings, tools } = ctx;
  if (settings.mode === "disabled") return;
  if (conf.prevResult === undefined) throw notChained("CHECK");
  const addresses = nicAddresses(conf.prevResult, env.ifName);
  const first = env.ifName === conf.podDefaultCniNic;
  const hostName = hostVethName(env.containerID);
  const host = readNetState(tools, undefined);
  const pod = readNetState(tools, env.netns);
  const hostVeth = host.links.find((l) => l.name === hostName);
  const podVeth = pod.links.find((l) => l.name === POD_VETH);
  if (!hostVeth?.up) throw checkFailed(`the node's end of the veth pair, ${hostName}, is ${hostVeth ? "down" : "missing"}`);
  if (!podVeth?.up) throw checkFailed(`the Pod's ${POD_VETH} is ${podVeth ? "down" : "missing"}`);
  const lacking = missing(hostObjects(addresses, hostName, podVeth.mac, settings.hostRuleTable), host, "the node");
  if (first) {
    const families = new Set<Family>(addresses.map((a) => a.family));
    const nodeAddresses = host.addrs.filter((a) => a.scope === "global" && !a.tentative && !a.dadfailed).map((a) => a.local);
    lacking.push(...missing(podVethObjects(nodeAddresses, settings.hijack, families, hostVeth.mac), pod, "the Pod"));
  }
  const table = podTableOf(env.ifName);
  if (!first && settings.tunePodRoutes && table !== undefined) lacking.push(...missing(nicTableObjects(pod, env.ifName, addresses, table), pod, "the Pod"));
  if (lacking.length > 0) throw checkFailed(`${lacking.length} of the coordinator's routes or rules for ${env.ifName} are missing`, lacking.join("; "));
  ctx.log.debug("check passed");
}

export function cmdGc(ctx: RunContext): number {
  const valid = new Set((ctx.conf.validAttachments ?? []).map((a) => a.containerID));
  const host = readNetState(ctx.tools, undefined);
  const stale = host.links.filter((l) => {
    const container = containerOfAlias(l.alias, ctx.conf.name);
    return container !== undefined && !valid.has(container) && l.name === hostVethName(container);
  });
  const table = String(ctx.settings.hostRuleTable);
  const gone = new Set(stale.map((l) => l.name));
  // A rule of ours whose route is gone (its veth was deleted, now or earlier) is stale too.
  const routed = new Set(host.routes.filter((r) => r.table === table && r.dev !== undefined && !gone.has(r.dev)).map((r) => r.dst));
  const rules = host.rules.filter((r) => r.table === table && r.protocol === ROUTE_PROTO && r.dst !== undefined && !routed.has(r.dst));
  const lines = [...stale.map((l) => `link del ${l.name}`), ...rules.map((r) => forFamily(r.family, `rule del to ${r.dst} priority ${r.priority} lookup ${table}`))];
  const errors = applyBestEffort(ctx.tools, undefined, lines);
  if (errors.length > 0) ctx.log.warn("some GC commands failed", { errors });
  ctx.log.info("garbage collected", { valid: valid.size, veths: stale.length, rules: rules.length });
  return stale.length;
}

/** STATUS: 50 when a tool this config needs is missing (the node cannot serve ADD). */
export function cmdStatus(ctx: RunContext): void {
  const needed: Tool[] = ["ip", "nsenter"];
  if (ctx.settings.detectIPConflict) needed.push("arping");
  if (ctx.settings.detectGateway) needed.push("ping");
  if (ctx.settings.podRPFilter >= 0 || ctx.settings.hostRPFilter >= 0) needed.push("sysctl");
  const absent = needed.find((t) => !ctx.tools.has(t));
  if (absent !== undefined) {
    const err = toolMissing(absent);
    throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, err.message, err.details);
  }
}
