import type { ConsistencyReport } from "../../ipam/lifecycle/consistency.js";
import type { Command, CommandContext } from "../context.js";
import { paint, table, writeStructured } from "../output.js";

const PROBLEMS = ["leaked", "missing", "duplicates", "expiredReservations"] as const;

/** Exit code 0 when the report finds nothing wrong, 1 otherwise (scripts can test it). */
export function reportExitCode(r: ConsistencyReport): number {
  return r.leaked + r.missing + r.duplicates + r.unreadable === 0 ? 0 : 1;
}

/** The report as text: the totals, then each pool with a finding and its addresses. */
export function writeReport(ctx: CommandContext, title: string, r: ConsistencyReport): number {
  if (writeStructured(ctx.io, ctx.format, r)) return reportExitCode(r);
  const { io } = ctx;
  const ok = reportExitCode(r) === 0;
  io.out(`${paint(io, "bold", title)}: ${ok ? paint(io, "green", "consistent") : paint(io, "red", "problems found")} (${r.pools.length} pools, at ${new Date(r.at).toISOString()})\n`);
  io.out(`leaked ${r.leaked}  missing ${r.missing}  duplicates ${r.duplicates}  expired reservations ${r.expiredReservations}  unreadable ${r.unreadable}\n`);
  const rows: string[][] = [];
  for (const p of r.pools) {
    for (const kind of PROBLEMS) if (p[kind].length > 0) rows.push([p.pool, kind, p[kind].join(", ")]);
    if (p.unreadable) rows.push([p.pool, "unreadable", p.unreadable]);
  }
  if (rows.length) io.out(table([["POOL", "FINDING", "ADDRESSES"].map((h) => paint(io, "bold", h)), ...rows]));
  return reportExitCode(r);
}

export const checkCommand: Command = {
  name: "check",
  summary: "the consistency check: leaked, missing and duplicate addresses",
  usage: "check [-o json|yaml]",
  help: [
    "Asks spiderpool-controller for its consistency report, read live from the apiserver (not",
    "from caches): addresses a pool holds that no live Pod records (leaked), addresses a live Pod",
    "records that its pool does not hold (missing), addresses two live Pods claim (duplicates),",
    "and reservations past their lifetime. Changes nothing. Exit code 0 when consistent, 1 when",
    "something is leaked, missing, duplicated or unreadable.",
    "",
    "Example:",
    "  kubectl spiderpool check",
    "  consistency: consistent (3 pools, at 2026-11-30T07:45:12.000Z)",
    "  leaked 0  missing 0  duplicates 0  expired reservations 0  unreadable 0",
  ].join("\n"),
  async run(ctx) {
    const controller = await ctx.controller();
    return writeReport(ctx, "consistency", (await controller.get("/v1/consistency")) as ConsistencyReport);
  },
};

export const gcCommand: Command = {
  name: "gc",
  summary: "run a garbage-collection scan now (the leader's full scan)",
  usage: "gc [-o json|yaml]",
  help: [
    "Asks the leading spiderpool-controller replica to run its full scan now, as its timer would:",
    "every endpoint's owner judged again on a live read, expired reservations collected, bound",
    "addresses no endpoint records released (an address is released by the second scan that finds",
    "it without a record, so one in the middle of being written is never taken). Prints the",
    "consistency report taken after the scan.",
    "A replica that does not lead answers 503; the call is retried, so it reaches the leader",
    "through the Service (or the local balancer).",
    "",
    "Example:",
    "  kubectl spiderpool gc",
    "  gc scan: consistent (3 pools, at 2026-11-30T07:46:03.000Z)",
    "  leaked 0  missing 0  duplicates 0  expired reservations 0  unreadable 0",
  ].join("\n"),
  async run(ctx) {
    const controller = await ctx.controller();
    return writeReport(ctx, "gc scan", (await controller.post("/v1/gc", {})) as ConsistencyReport);
  },
};
