/**
 * The veth pair between the Pod and the node, made by the coordinator run of the Pod's
 * first NIC. It is created inside the Pod's namespace and its host end moved out to the
 * plugin's own namespace (the node's): `ip link ... netns` takes a name or a PID, never
 * the path CNI_NETNS is, and the plugin's PID names the node's namespace.
 */
import type { CoordinatorConf } from "./config.js";
import type { HostTools } from "./host-tools.js";
import { POD_VETH, hostVethAlias, hostVethName } from "./names.js";
import { type Link, type NetState, applyBestEffort, applyLines, readLinks, readNetState } from "./netstate.js";
import type { Settings } from "./settings.js";

/** Both ends, and both namespaces as they are once the pair is up (for what comes next). */
export interface VethEnds {
  host: Link;
  pod: Link;
  hostState: NetState;
  podState: NetState;
}

export interface VethContext {
  tools: HostTools;
  netns: string;
  containerID: string;
  conf: CoordinatorConf;
  settings: Settings;
  /** The PID whose namespace is the node's: the plugin's own. */
  pid: number;
}

/** Makes the pair (or keeps the one a repeated ADD finds), up, and returns both ends. */
export function ensureVeth(ctx: VethContext, nic: string): VethEnds {
  const hostName = hostVethName(ctx.containerID);
  const alias = hostVethAlias(ctx.conf.name, ctx.containerID);
  const host = readLinks(ctx.tools, undefined).find((l) => l.name === hostName);
  const podLinks = readLinks(ctx.tools, ctx.netns);
  const podVeth = podLinks.find((l) => l.name === POD_VETH);
  if (host?.alias === alias && podVeth !== undefined) return readEnds(ctx, hostName);
  // A half-made pair (an ADD that died) or a stranger with our name: start over.
  if (host !== undefined) applyLines(ctx.tools, undefined, [`link del ${hostName}`]);
  if (podVeth !== undefined) applyBestEffort(ctx.tools, ctx.netns, [`link del ${POD_VETH}`]);
  const mtu = ctx.settings.vethMTU || (podLinks.find((l) => l.name === nic)?.mtu ?? 1500);
  const txq = ctx.settings.txQueueLen > 0 ? ` txqueuelen ${ctx.settings.txQueueLen}` : "";
  applyLines(ctx.tools, ctx.netns, [
    `link add ${POD_VETH} mtu ${mtu}${txq} type veth peer name ${hostName} mtu ${mtu}${txq}`,
    `link set ${hostName} netns ${ctx.pid}`,
    `link set ${POD_VETH} up`,
    ...(ctx.settings.vethLinkAddress ? [`addr add ${ctx.settings.vethLinkAddress}/${ctx.settings.vethLinkAddress.includes(":") ? 128 : 32} dev ${POD_VETH} scope link`] : []),
  ]);
  applyLines(ctx.tools, undefined, [`link set ${hostName} alias ${alias}`, `link set ${hostName} up`]);
  return readEnds(ctx, hostName);
}

function readEnds(ctx: VethContext, hostName: string): VethEnds {
  const hostState = readNetState(ctx.tools, undefined);
  const podState = readNetState(ctx.tools, ctx.netns);
  const host = hostState.links.find((l) => l.name === hostName);
  const pod = podState.links.find((l) => l.name === POD_VETH);
  if (host === undefined || pod === undefined) throw new Error(`the veth pair ${hostName}/${POD_VETH} vanished right after it was made`);
  return { host, pod, hostState, podState };
}
