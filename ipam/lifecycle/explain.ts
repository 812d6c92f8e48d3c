import type { Family } from "../address/ip.js";
import type { AssignedNic } from "../annotations/assigned.js";
import { describeRule } from "../selection/rules.js";
import type { FamilyCandidates, Filtered } from "../selection/types.js";
import { nicsOf, reserveAddresses, selectFor, type PodFacts, type ReserveContext } from "./reserve.js";

/** How one NIC/family's pools were chosen: the rule of api.md that applied, then the pools in the order tried. */
export interface FamilyExplanation {
  interface: string;
  family: Family;
  rule: string;
  /** Where the rule's names came from, as a sentence fragment ("annotation ipam.spidernet.io/ippool"). */
  source: string;
  kind: "pool" | "subnet";
  candidates: string[];
  filtered: Filtered[];
}

/** Why a Pod gets what it gets: the rules and candidates per NIC, and what a dry run hands out now. */
export interface Explanation {
  families: FamilyExplanation[];
  /** NICs left alone (their network is not Spiderpool's or could not be judged). */
  warnings: string[];
  /** What a Pod like this one would be given now (a dry run: nothing reserved). */
  dryRun?: AssignedNic[];
  /** Why selection or the dry run refused, when it did: the sentence admission would answer. */
  refusal?: string;
}

function familyOf(nic: string, family: Family, c: FamilyCandidates): FamilyExplanation {
  return { interface: nic, family, rule: c.rule, source: describeRule(c.rule, family), kind: c.kind, candidates: c.candidates.map((x) => x.name), filtered: [...c.filtered] };
}

/**
 * Explains the allocation of `pod` through the same steps as reserveAddresses (the NIC limits,
 * the networks, the rule and candidate selection), then runs reserveAddresses itself with
 * `ctx`, whose allocator and `dryRun` must be a dry run's: nothing is written.
 */
export async function explainAllocation(pod: PodFacts, ctx: ReserveContext): Promise<Explanation> {
  const out: Explanation = { families: [], warnings: [] };
  try {
    const { interfaces, nics, warnings } = await nicsOf(pod, ctx);
    out.warnings = warnings;
    for (const nic of selectFor(pod, ctx, nics, interfaces)) {
      for (const [family, c] of [[4, nic.ipv4], [6, nic.ipv6]] as const) if (c) out.families.push(familyOf(nic.interface, family, c));
    }
    const reservation = await reserveAddresses(pod, "explain-dry-run", { ...ctx, dryRun: true });
    out.dryRun = reservation.assigned.ips;
  } catch (err) {
    out.refusal = (err as Error).message;
  }
  return out;
}
