import { buildPoolView } from "../../ipam/allocation/pool-view.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { poolUsage } from "../../ipam/allocation/usage.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../ipam/kinds/subnet.js";
import type { Command, CommandContext } from "../context.js";
import { bar, paint, percent, table, writeStructured } from "../output.js";

export interface UsageRow {
  kind: "SpiderIPPool" | "SpiderSubnet";
  name: string;
  subnet: string;
  allocated: number;
  total: number;
  percent: number;
  /** Why the pool's counts could not be derived from its record, when they could not. */
  problem?: string;
}

function poolRow(pool: SpiderIPPool, reserved: Awaited<ReturnType<CommandContext["reads"]["reserved"]>>): UsageRow {
  const base = { kind: "SpiderIPPool" as const, name: pool.metadata.name ?? "", subnet: pool.spec.subnet };
  try {
    const view = buildPoolView(pool, reserved(pool.spec.ipVersion === 6 ? 6 : 4));
    const u = poolUsage(view, decodeAllocations(pool.status?.allocations, view.subnet));
    return { ...base, allocated: u.allocated, total: u.total, percent: u.total > 0 ? u.allocated / u.total : 0 };
  } catch (err) {
    const allocated = pool.status?.allocatedIPCount ?? 0;
    const total = pool.status?.totalIPCount ?? 0;
    return { ...base, allocated, total, percent: total > 0 ? allocated / total : 0, problem: (err as Error).message };
  }
}

function subnetRow(s: SpiderSubnet): UsageRow {
  const allocated = s.status?.allocatedIPCount ?? 0;
  const total = s.status?.totalIPCount ?? 0;
  return { kind: "SpiderSubnet", name: s.metadata.name ?? "", subnet: s.spec.subnet, allocated, total, percent: total > 0 ? allocated / total : 0 };
}

/** The rows of `kubectl spiderpool usage`: pools from their records, subnets from their status. */
export async function usageRows(ctx: CommandContext): Promise<UsageRow[]> {
  const [pools, subnets, reserved] = await Promise.all([ctx.reads.allPools(), ctx.reads.subnets.list(), ctx.reads.reserved()]);
  const wanted = (name: string): boolean => ctx.flags.pool === undefined || ctx.flags.pool === name;
  return [...pools.filter((p) => wanted(p.metadata.name ?? "")).map((p) => poolRow(p, reserved)), ...subnets.items.filter((s) => wanted(s.metadata.name ?? "")).map(subnetRow)];
}

export const usageCommand: Command = {
  name: "usage",
  summary: "pool and subnet usage, with bars and percentages",
  usage: "usage [--pool NAME] [-o json|yaml]",
  help: [
    "Shows every SpiderIPPool (allocated addresses counted from the pool's own record) and every",
    "SpiderSubnet (from its status), with a bar and a percentage: green below 70 %, yellow below",
    "90 %, red from 90 %. --pool NAME shows that pool or subnet alone.",
    "",
    "Example:",
    "  kubectl spiderpool usage",
    "  KIND  NAME        SUBNET          USAGE                   ALLOCATED  TOTAL  PERCENT",
    "  pool  demo-v4     10.20.0.0/24    [##------------------]  12         101    11.9%",
  ].join("\n"),
  async run(ctx) {
    const rows = await usageRows(ctx);
    if (writeStructured(ctx.io, ctx.format, { items: rows })) return 0;
    if (rows.length === 0) {
      ctx.io.out("no SpiderIPPool or SpiderSubnet found\n");
      return 0;
    }
    const head = ["KIND", "NAME", "SUBNET", "USAGE", "ALLOCATED", "TOTAL", "PERCENT"].map((h) => paint(ctx.io, "bold", h));
    const body = rows.map((r) => [r.kind === "SpiderIPPool" ? "pool" : "subnet", r.name, r.subnet, bar(ctx.io, r.allocated, r.total), String(r.allocated), String(r.total), percent(r.allocated, r.total)]);
    ctx.io.out(table([head, ...body]));
    for (const r of rows.filter((x) => x.problem)) ctx.io.err(`${r.name}: ${r.problem} (counts from its status)\n`);
    return 0;
  },
};
