import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { parseAssignedIPs, type AssignedNic } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import type { PodLike } from "../../ipam/kinds/pod.js";
import { NAD_GROUP, NAD_PLURAL, NAD_VERSION, type NetworkAttachmentDefinition } from "../../ipam/kinds/network-attachment.js";
import { DryRunAllocator } from "../../ipam/lifecycle/dry-run.js";
import { explainAllocation, type Explanation } from "../../ipam/lifecycle/explain.js";
import { podFacts, type LabelledObject, type ReserveContext } from "../../ipam/lifecycle/reserve.js";
import type { Cache } from "../../ipam/ports.js";
import { CustomResources } from "../../k8s/resources.js";
import { systemClock } from "../../runtime/clock.js";
import type { Command, CommandContext } from "../context.js";
import { paint, table, UsageError, writeStructured } from "../output.js";

/** A cache over one list read now: the dry run sees the cluster as it is at this moment. */
function snapshot<T extends { metadata?: { name?: string; namespace?: string } }>(items: readonly T[]): Cache<T> {
  return {
    get: (name, namespace) => items.find((i) => i.metadata?.name === name && (namespace === undefined || i.metadata?.namespace === namespace)),
    list: (namespace) => items.filter((i) => namespace === undefined || i.metadata?.namespace === namespace),
  };
}

/** The reservation context of admission, over live reads instead of the controller's caches, with a dry-run allocator. */
async function dryRunContext(ctx: CommandContext, pod: V1Pod): Promise<ReserveContext> {
  const { reads } = ctx;
  const core = ctx.kc.makeApiClient(CoreV1Api);
  const [pools, subnets, reserved, cluster, namespace, node] = await Promise.all([
    reads.allPools(),
    reads.subnets.list(),
    reads.reserved(),
    reads.clusterConfig(ctx.systemNamespace),
    core.readNamespace({ name: pod.metadata?.namespace ?? "" }),
    pod.spec?.nodeName ? core.readNode({ name: pod.spec.nodeName }).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const poolCache = snapshot(pools);
  const nads = new CustomResources<NetworkAttachmentDefinition>(ctx.kc, NAD_PLURAL, true, { group: NAD_GROUP, version: NAD_VERSION });
  const common = { cached: (n: string) => poolCache.get(n), reserved, clock: systemClock, coolDownMs: 0 };
  return {
    allocator: new DryRunAllocator(common),
    dryRun: true,
    pools: poolCache,
    subnets: snapshot(subnets.items),
    namespaces: snapshot([namespace as LabelledObject]),
    nodes: snapshot(node ? [node as LabelledObject] : []),
    reservedIPs: reserved,
    cluster: () => cluster,
    installNamespace: ctx.systemNamespace,
    clock: systemClock,
    ttlMs: 60_000,
    networks: (ref) => nads.get(ref.name, ref.namespace),
  };
}

export interface WhyReport extends Explanation {
  pod: string;
  /** What the Pod holds (its assigned-ips annotation). */
  assigned: AssignedNic[];
  assignedProblem?: string;
}

export async function explainPod(ctx: CommandContext, namespace: string, name: string): Promise<WhyReport> {
  const pod = await ctx.reads.pod(namespace, name);
  if (!pod) throw new UsageError(`pod ${namespace}/${name} not found (use -n NAMESPACE)`);
  let assigned: AssignedNic[] = [];
  let assignedProblem: string | undefined;
  const text = pod.metadata?.annotations?.[ANNO_ASSIGNED_IPS];
  try {
    assigned = text ? parseAssignedIPs(text).ips : [];
  } catch (err) {
    assignedProblem = (err as Error).message;
  }
  const explanation = await explainAllocation(podFacts(pod as PodLike, namespace), await dryRunContext(ctx, pod));
  return { pod: `${namespace}/${name}`, assigned, ...(assignedProblem ? { assignedProblem } : {}), ...explanation };
}

const nicText = (n: AssignedNic): string => [n.ipv4 && `${n.ipv4} (${n.ipv4Pool})`, n.ipv6 && `${n.ipv6} (${n.ipv6Pool})`].filter(Boolean).join(", ");

function writeText(ctx: CommandContext, r: WhyReport): void {
  const { io } = ctx;
  io.out(`${paint(io, "bold", r.pod)} holds: ${r.assigned.length ? r.assigned.map((n) => `${n.interface} ${nicText(n)}`).join("; ") : (r.assignedProblem ?? "nothing from Spiderpool")}\n`);
  const rows = r.families.map((f) => [f.interface, `IPv${f.family}`, `${f.rule} (${f.source})`, f.candidates.join(", ") || "-", f.filtered.map((x) => `${x.name}: ${x.detail}`).join("; ") || "-"]);
  if (rows.length) io.out(table([["NIC", "FAMILY", "RULE", "CANDIDATES (in order)", "FILTERED OUT"].map((h) => paint(io, "bold", h)), ...rows]));
  for (const w of r.warnings) io.out(`note: ${w}\n`);
  if (r.refusal) io.out(`${paint(io, "red", "a Pod like this one would be refused now:")} ${r.refusal}\n`);
  else if (r.dryRun) io.out(`a Pod like this one would get now (dry run, nothing reserved): ${r.dryRun.map((n) => `${n.interface} ${nicText(n)}`).join("; ") || "nothing"}\n`);
}

export const whyCommand: Command = {
  name: "why",
  summary: "why a Pod got its addresses: the rule, the candidate pools, a dry run",
  usage: "why POD [-n NAMESPACE] [-o json|yaml]",
  help: [
    "Reads the Pod, its namespace, its node and the pools and subnets as they are now, and runs",
    "admission's own selection over them: per NIC and family the rule of api.md that applied",
    "(annotation, namespace default, CNI default, cluster default, default pools), the candidate",
    "pools in the order they are tried, and the pools filtered out with the reason. Then a dry",
    "run of allocation (the same code path, with the dry-run allocator: nothing is reserved)",
    "shows what a Pod like this one would be given now. Automatic (subnet) pools and StatefulSet",
    "addresses kept for an ordinal are decided by the controller and only named here.",
    "",
    "Example:",
    "  kubectl spiderpool why -n demo pinned",
    "  demo/pinned holds: eth0 10.20.0.77/24 (demo-v4)",
    "  NIC   FAMILY  RULE                                   CANDIDATES (in order)  FILTERED OUT",
    "  eth0  IPv4    ippool (annotation ipam.spidernet.io/ippool)  demo-v4        -",
  ].join("\n"),
  async run(ctx, args) {
    const [name] = args;
    if (!name || args.length > 1) throw new UsageError(`name one Pod: kubectl spiderpool ${this.usage}`);
    const report = await explainPod(ctx, ctx.namespace, name);
    if (writeStructured(ctx.io, ctx.format, report)) return 0;
    writeText(ctx, report);
    return 0;
  },
};
