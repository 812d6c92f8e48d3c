/**
 * Checks made before anything is changed: is the NIC's address already in use on the
 * underlay, does its gateway answer. IPv4 uses an ARP probe (`arping -D`, sender 0.0.0.0,
 * RFC 5227), so a host that holds the address answers and nobody's ARP cache is touched;
 * IPv6 uses the kernel's own duplicate address detection on the address the main plugin
 * added, and waits for its verdict.
 */
import { CniError } from "../errors.js";
import type { Logger } from "../log.js";
import { COORDINATOR_ERROR_CODES } from "./codes.js";
import type { DetectOptions } from "./config.js";
import { type HostTools, commandFailed } from "./host-tools.js";
import { readNetState } from "./netstate.js";
import type { NicAddress } from "./prev-result.js";

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): void => void Atomics.wait(pause, 0, 0, ms);

export interface DetectContext {
  tools: HostTools;
  netns: string;
  nic: string;
  opts: DetectOptions;
  log: Logger;
}

function conflict(ip: string, nic: string, details: string): CniError {
  return new CniError(
    COORDINATOR_ERROR_CODES.IP_CONFLICT,
    `address ${ip} of ${nic} is already in use on the underlay`,
    `${details}; another host holds it: find it by this MAC, or take the address out of its pool (SpiderReservedIP) and recreate the Pod`,
  );
}

export function detectIPConflicts(ctx: DetectContext, addresses: readonly NicAddress[]): void {
  const deadline = Math.max(1, Math.ceil((ctx.opts.retries * ctx.opts.intervalMs + ctx.opts.timeoutMs) / 1000));
  for (const a of addresses.filter((x) => x.family === 4)) {
    const args = ["-D", "-c", String(ctx.opts.retries), "-w", String(deadline), "-I", ctx.nic, a.ip];
    const res = ctx.tools.run(ctx.netns, "arping", args);
    // 0: nobody answered; 1 with a reply line: somebody holds it; anything else: arping failed.
    const reply = /reply from \S+ \[([0-9A-Fa-f:]+)\]/i.exec(res.stdout);
    if (res.status === 1 && reply) throw conflict(a.ip, ctx.nic, `it answered an ARP probe from MAC ${(reply[1] ?? "").toLowerCase()}`);
    if (res.status !== 0) throw commandFailed(ctx.netns, `arping ${args.join(" ")}`, res.stdout + res.stderr);
    ctx.log.debug("ARP probe: address is free", { ip: a.ip });
  }
  const v6 = addresses.filter((x) => x.family === 6);
  if (v6.length > 0) waitForDad(ctx, v6);
}

/** Waits until the kernel's DAD has settled on each address: fails on "dadfailed". */
function waitForDad(ctx: DetectContext, addresses: readonly NicAddress[]): void {
  const limit = Date.now() + Math.max(3000, ctx.opts.retries * ctx.opts.timeoutMs);
  for (;;) {
    const state = readNetState(ctx.tools, ctx.netns).addrs.filter((x) => x.link === ctx.nic);
    const mine = addresses.map((a) => state.find((x) => x.local === a.ip));
    const failed = mine.find((x) => x?.dadfailed === true);
    if (failed) throw conflict(failed.local, ctx.nic, "it failed IPv6 duplicate address detection (another host answered the neighbour solicitation)");
    if (!mine.some((x) => x?.tentative === true)) return;
    if (Date.now() > limit) {
      ctx.log.warn("IPv6 duplicate address detection has not finished; going on", { nic: ctx.nic });
      return;
    }
    sleep(100);
  }
}

export function detectGateways(ctx: DetectContext, addresses: readonly NicAddress[]): void {
  const gateways = [...new Set(addresses.flatMap((a) => (a.gateway ? [a.gateway] : [])))];
  for (const gw of gateways) {
    const args = [gw.includes(":") ? "-6" : "-4", "-n", "-q", "-c", String(ctx.opts.retries), "-i", String(Math.max(0.01, ctx.opts.intervalMs / 1000)), "-W", String(Math.max(0.1, ctx.opts.timeoutMs / 1000)), "-I", ctx.nic, gw];
    const res = ctx.tools.run(ctx.netns, "ping", args);
    if (res.status === 0) {
      ctx.log.debug("gateway answered", { gateway: gw });
      continue;
    }
    if (res.status !== 1) throw commandFailed(ctx.netns, `ping ${args.join(" ")}`, res.stdout + res.stderr);
    throw new CniError(
      COORDINATOR_ERROR_CODES.GATEWAY_UNREACHABLE,
      `gateway ${gw} of ${ctx.nic} does not answer`,
      `${ctx.opts.retries} ICMP echo requests got no reply; check the pool's gateway and the underlay, or set detectGateway: false`,
    );
  }
}
