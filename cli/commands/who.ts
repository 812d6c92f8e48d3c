import type { V1Pod } from "@kubernetes/client-node";
import { formatIP, parseIP, type IPAddress } from "../../ipam/address/ip.js";
import type { HistoryEntry } from "../../ipam/lifecycle/address-history.js";
import type { Command, CommandContext } from "../context.js";
import { endpointsRecording, holdsOf, type PoolHold } from "../reads.js";
import { paint, table, UsageError, writeStructured } from "../output.js";

/** Who holds an address in one pool, as the record, the endpoints and the live Pod say. */
export interface HolderReport {
  pool: string;
  /** held (bound to a Pod), reserved (admitted, not yet bound), cooling (released, resting), free. */
  state: "held" | "reserved" | "cooling" | "free";
  token?: number;
  reservation?: string;
  /** ns/name of the holder, from its SpiderEndpoint or the reservation. */
  owner?: string;
  uid?: string;
  node?: string;
  /** The holder's Pod now: Running, Pending, …, "gone" (no such Pod or another uid), or unknown. */
  pod?: string;
  coolingUntil?: string;
  history: HistoryEntry[];
  /** Why the history could not be read, when it could not. */
  historyProblem?: string;
}

export function parseAddressArg(args: readonly string[], usage: string): IPAddress {
  const [text] = args;
  if (!text || args.length > 1) throw new UsageError(`name one address: kubectl spiderpool ${usage}`);
  try {
    return parseIP(text.split("/")[0] ?? text);
  } catch (err) {
    throw new UsageError(`${text} is not an IP address (${(err as Error).message})`);
  }
}

/** The Pod's state for the report: its phase, or "gone" when the name now belongs to no Pod or to another uid. */
export function podState(pod: V1Pod | undefined, uid: string | undefined): string {
  if (!pod || (uid && pod.metadata?.uid !== uid)) return "gone";
  return pod.metadata?.deletionTimestamp ? `${pod.status?.phase ?? "Unknown"} (terminating)` : (pod.status?.phase ?? "Unknown");
}

/** Who the record's holder is: the SpiderEndpoint recording the address, else the reservation's owner; and its Pod now. */
async function ownerOf(ctx: CommandContext, pool: string, ip: IPAddress, reservationOwner: string | undefined): Promise<Pick<HolderReport, "owner" | "uid" | "node" | "pod">> {
  const [ep] = endpointsRecording((await ctx.reads.endpoints.list()).items, pool, ip);
  const current = ep?.status?.current;
  const owner = ep ? `${ep.metadata.namespace ?? ""}/${ep.metadata.name ?? ""}` : reservationOwner;
  if (!owner) return {};
  const [ns = "", name = ""] = owner.split("/", 2);
  const pod = podState(await ctx.reads.pod(ns, name), current?.uid);
  return { owner, pod, ...(current?.uid ? { uid: current.uid } : {}), ...(current?.node ? { node: current.node } : {}) };
}

async function holderOf(ctx: CommandContext, hold: PoolHold, ip: IPAddress): Promise<Omit<HolderReport, "history">> {
  const pool = hold.pool.metadata.name ?? "";
  const h = hold.holder;
  if (!h) return { pool, state: hold.coolingUntil ? "cooling" : "free", ...(hold.coolingUntil ? { coolingUntil: new Date(hold.coolingUntil).toISOString() } : {}) };
  const owner = await ownerOf(ctx, pool, ip, h.owner);
  return { pool, state: h.reservation ? "reserved" : "held", token: h.token, ...(h.reservation ? { reservation: h.reservation } : {}), ...owner };
}

async function historyOf(ctx: CommandContext, pool: string, ip: IPAddress): Promise<Pick<HolderReport, "history" | "historyProblem">> {
  try {
    const controller = await ctx.controller();
    return { history: (await controller.get("/v1/history", { pool, address: formatIP(ip.family, ip.value) })) as HistoryEntry[] };
  } catch (err) {
    return { history: [], historyProblem: (err as Error).message };
  }
}

export async function whoHolds(ctx: CommandContext, ip: IPAddress): Promise<HolderReport[]> {
  const holds = holdsOf(await ctx.reads.allPools(), ip).filter((h) => ctx.flags.pool === undefined || h.pool.metadata.name === ctx.flags.pool);
  const out: HolderReport[] = [];
  for (const hold of holds) {
    const now = await holderOf(ctx, hold, ip);
    out.push({ ...now, ...(await historyOf(ctx, now.pool, ip)) });
  }
  return out;
}

function writeText(ctx: CommandContext, address: string, reports: readonly HolderReport[]): void {
  const { io } = ctx;
  for (const r of reports) {
    const state = paint(io, r.state === "held" || r.state === "reserved" ? "yellow" : "green", r.state);
    const who = r.owner ? ` by ${r.owner}${r.uid ? ` (uid ${r.uid})` : ""}${r.node ? ` on ${r.node}` : ""}, pod ${r.pod === "gone" ? paint(io, "red", "gone") : (r.pod ?? "unknown")}` : "";
    const extra = r.reservation ? `, reservation ${r.reservation}` : r.coolingUntil ? `, resting until ${r.coolingUntil}` : "";
    io.out(`${paint(io, "bold", address)} in pool ${r.pool}: ${state}${r.token !== undefined ? ` (token ${r.token})` : ""}${who}${extra}\n`);
    if (r.historyProblem) io.out(`  history unavailable: ${r.historyProblem}\n`);
    else if (r.history.length === 0) io.out("  no earlier holders recorded\n");
    else {
      const rows = r.history.map((e) => [e.pod, e.uid, e.from ? new Date(e.from).toISOString() : "-", new Date(e.until).toISOString(), e.reason]);
      io.out(table([["  HELD BEFORE BY", "UID", "FROM", "UNTIL", "RELEASED BECAUSE"].map((h) => paint(io, "bold", h)), ...rows.map((row) => [`  ${row[0]}`, ...row.slice(1)])]));
    }
  }
}

export const whoCommand: Command = {
  name: "who",
  summary: "who holds an address, and who held it before",
  usage: "who IP [--pool NAME] [-o json|yaml]",
  help: [
    "Finds every pool whose subnet contains IP and reads its record: held (by a Pod, token and",
    "SpiderEndpoint), reserved (admitted, not yet bound), cooling (released, resting) or free. The",
    "holder's Pod is read live: its phase, or \"gone\". Then the address history the controller",
    "keeps (its last holders, when and why each was released), from the controller's /v1/history.",
    "",
    "Example:",
    "  kubectl spiderpool who 10.20.0.41",
    "  10.20.0.41 in pool demo-v4: held (token 7) by demo/web-0 (uid 3f1c…) on sim-node-a, pod Running",
    "    HELD BEFORE BY  UID     FROM                      UNTIL                     RELEASED BECAUSE",
    "    demo/web-0      9a2e…   2026-11-30T07:40:02.000Z  2026-11-30T07:41:10.000Z  pod-deleted",
  ].join("\n"),
  async run(ctx, args) {
    const ip = parseAddressArg(args, this.usage);
    const reports = await whoHolds(ctx, ip);
    const address = formatIP(ip.family, ip.value);
    if (writeStructured(ctx.io, ctx.format, { address, pools: reports })) return reports.length > 0 ? 0 : 1;
    if (reports.length === 0) {
      ctx.io.err(`no pool${ctx.flags.pool ? ` named ${ctx.flags.pool}` : ""} contains ${address}\n`);
      return 1;
    }
    writeText(ctx, address, reports);
    return 0;
  },
};
