import { formatIP, type IPAddress } from "../../ipam/address/ip.js";
import { parseAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { PoolRequest, PoolResponse } from "../../ipam/allocation/requests.js";
import { isFinished } from "../../ipam/kinds/pod.js";
import { commitToPool } from "../../ipam/lifecycle/pool-commit.js";
import { ConflictError } from "../../ipam/ports.js";
import { retry } from "../../ipam/retry.js";
import { systemClock } from "../../runtime/clock.js";
import type { Command, CommandContext } from "../context.js";
import { paint, UsageError, writeStructured } from "../output.js";
import { endpointsRecording, holdsOf, type PoolHold } from "../reads.js";
import { parseAddressArg, podState } from "./who.js";

/** The controller's default cool-down (SPIDERPOOL_COOL_DOWN_MS): a released address rests before reuse. */
const COOL_DOWN_MS = 30_000;

/** Whether a Pod's assigned-ips annotation records `text` from `pool` (a malformed one records nothing the agent would honour). */
export function annotationRecords(anno: string | undefined, pool: string, family: 4 | 6, text: string): boolean {
  if (!anno) return false;
  try {
    return parseAssignedIPs(anno).ips.some((n) => (family === 4 ? n.ipv4Pool === pool && n.ipv4?.split("/")[0] === text : n.ipv6Pool === pool && n.ipv6?.split("/")[0] === text));
  } catch {
    return false;
  }
}

/** The live Pods of the SpiderEndpoints that record the address. */
async function endpointOwners(ctx: CommandContext, pool: string, ip: IPAddress): Promise<string[]> {
  const owners: string[] = [];
  for (const ep of endpointsRecording((await ctx.reads.endpoints.list()).items, pool, ip)) {
    const pod = await ctx.reads.pod(ep.metadata.namespace ?? "", ep.metadata.name ?? "");
    const state = podState(pod, ep.status?.current?.uid);
    if (state !== "gone" && pod && !isFinished(pod)) owners.push(`${ep.metadata.namespace}/${ep.metadata.name} (${state})`);
  }
  return owners;
}

/** The Pods that own the address now, by live reads: its endpoints' Pods, and any unfinished Pod whose annotation records it. */
async function liveOwners(ctx: CommandContext, pool: string, ip: IPAddress): Promise<string[]> {
  const owners = await endpointOwners(ctx, pool, ip);
  const text = formatIP(ip.family, ip.value);
  for (const pod of (await ctx.reads.core.listPodForAllNamespaces()).items) {
    if (isFinished(pod) || !annotationRecords(pod.metadata?.annotations?.[ANNO_ASSIGNED_IPS], pool, ip.family, text)) continue;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (!owners.some((o) => o.startsWith(`${key} `))) owners.push(`${key} (${pod.status?.phase ?? "Unknown"})`);
  }
  return owners;
}

function pickHold(ctx: CommandContext, holds: readonly PoolHold[], address: string): PoolHold & { holder: NonNullable<PoolHold["holder"]> } {
  const held = holds.filter((h): h is PoolHold & { holder: NonNullable<PoolHold["holder"]> } => h.holder !== undefined);
  if (held.length === 0) throw new ReleaseRefused(`no pool${ctx.flags.pool ? ` named ${ctx.flags.pool}` : ""} holds ${address}: nothing to release`);
  if (held.length > 1) throw new UsageError(`${address} is held in ${held.length} pools (${held.map((h) => h.pool.metadata.name).join(", ")}): name one with --pool`);
  return held[0] as PoolHold & { holder: NonNullable<PoolHold["holder"]> };
}

/** The command line is fine, but the release must not happen (owner alive, not confirmed, not held): exit 1. */
export class ReleaseRefused extends Error {
  override name = "ReleaseRefused";
}

/** One compare-and-swap on the pool: the release happens only if the address is still held under the token judged. */
async function releaseInPool(ctx: CommandContext, poolName: string, request: PoolRequest): Promise<PoolResponse> {
  const reserved = await ctx.reads.reserved();
  return retry(
    async () => {
      const pool = await ctx.reads.pools.get(poolName);
      if (!pool) throw new ReleaseRefused(`pool ${poolName} is gone`);
      const { answers, next } = commitToPool(pool, [request], { reserved, now: Date.now(), coolDownMs: COOL_DOWN_MS });
      if (next) await ctx.reads.pools.replaceStatus(next);
      return answers[0] as PoolResponse;
    },
    { policy: { attempts: 8, baseMs: 50, maxMs: 1000, jitter: true }, clock: systemClock, retryable: (err) => err instanceof ConflictError },
  );
}

async function confirm(ctx: CommandContext, question: string): Promise<void> {
  if (ctx.flags.yes) return;
  if (!ctx.io.ask) throw new ReleaseRefused("not confirmed: stdin is not a terminal; pass --yes to release without asking");
  const answer = (await ctx.io.ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new ReleaseRefused("not released: not confirmed");
}

/** Confirms, releases with compare-and-swap and reports. */
async function finish(ctx: CommandContext, address: string, pool: string, h: NonNullable<PoolHold["holder"]>, value: bigint): Promise<number> {
  const what = h.reservation ? `reservation ${h.reservation}${h.owner ? ` of ${h.owner}` : ""} (every address it holds in ${pool})` : `${address} from pool ${pool} (token ${h.token})`;
  await confirm(ctx, `release ${what}?`);
  const answer = await releaseInPool(ctx, pool, h.reservation ? { kind: "release-reservation", reservation: h.reservation } : { kind: "release", address: value, token: h.token });
  const released = answer.ok && ((answer.kind === "release" && answer.outcome === "released") || (answer.kind === "release-reservation" && answer.found));
  const outcome = !answer.ok ? answer.error.message : answer.kind === "release" ? answer.outcome : answer.kind;
  const result = { address, pool, token: h.token, ...(h.reservation ? { reservation: h.reservation } : {}), released, outcome };
  if (writeStructured(ctx.io, ctx.format, result)) return released ? 0 : 1;
  if (released) ctx.io.out(`${paint(ctx.io, "green", "released")} ${what}\n`);
  else ctx.io.err(`not released: ${outcome} (the address changed hands since it was read; look again with kubectl spiderpool who ${address})\n`);
  return released ? 0 : 1;
}

export const releaseCommand: Command = {
  name: "release",
  summary: "release a stuck address (refused while its owner lives)",
  usage: "release IP [--pool NAME] [--yes] [-o json|yaml]",
  help: [
    "Releases an address a pool still holds although no live Pod owns it (a leak the controller",
    "has not collected yet, or one it cannot judge). Refused while an owner lives: the Pods of the",
    "SpiderEndpoints that record it, and every Pod whose assigned-ips annotation records it, are",
    "read live from the apiserver first, and a Pod that is not Succeeded or Failed keeps it.",
    "Asks for confirmation on a terminal; --yes skips the question (needed when stdin is not a",
    "terminal). The release is one compare-and-swap on the pool's record under the token judged,",
    "so an address that changed hands meanwhile is not touched; it then rests for the cool-down",
    "(30 s) before it is handed out again. An address of a reservation not yet bound releases",
    "that whole reservation.",
    "",
    "Example:",
    "  kubectl spiderpool release 10.20.0.99 --yes",
    "  released 10.20.0.99 from pool demo-v4 (token 12)",
  ].join("\n"),
  async run(ctx, args) {
    const ip = parseAddressArg(args, this.usage);
    const address = formatIP(ip.family, ip.value);
    const holds = holdsOf(await ctx.reads.allPools(), ip).filter((h) => ctx.flags.pool === undefined || h.pool.metadata.name === ctx.flags.pool);
    const hold = pickHold(ctx, holds, address);
    const pool = hold.pool.metadata.name ?? "";
    const owners = await liveOwners(ctx, pool, ip);
    if (owners.length > 0) throw new ReleaseRefused(`${address} in pool ${pool} belongs to a live Pod: ${owners.join(", ")}; delete the Pod instead, its address is released when it is gone`);
    return finish(ctx, address, pool, hold.holder, ip.value);
  },
};
