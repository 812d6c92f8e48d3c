import { type Family, familyName } from "../address/ip.js";
import { ANNO_IPPOOL } from "../annotations/keys.js";
import { IpamError } from "../errors.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { SpiderSubnet } from "../kinds/subnet.js";
import { type FilterContext, poolVerdict, subnetVerdict } from "./filters.js";
import { expandNames } from "./glob.js";
import { type RuleChoice, chooseRule, describeRule, readPoolAnnotations } from "./rules.js";
import type { Candidate, FamilyCandidates, Filtered, NicCandidates, NicRequest, SelectionInput } from "./types.js";

/** Why one NIC cannot get an address of one family; several are reported together. */
interface Failure {
  readonly interface: string;
  readonly family?: Family;
  readonly rule?: string;
  readonly filtered: readonly Filtered[];
  readonly sentence: string;
}

function byName<T extends { metadata: { name?: string } }>(objects: readonly T[]): Map<string, T> {
  return new Map(objects.map((o) => [o.metadata.name ?? "", o]));
}

/** The pools and subnets that exist, by name. */
interface KnownObjects {
  readonly pools: Map<string, SpiderIPPool>;
  readonly subnets: Map<string, SpiderSubnet>;
}

function filterContext(input: SelectionInput, nic: NicRequest, family: Family): FilterContext {
  return {
    family,
    podNamespace: input.pod.namespace,
    podLabels: input.pod.labels,
    namespaceLabels: input.namespace?.labels,
    node: input.node,
    interface: nic.interface,
    network: nic.network,
    installNamespace: input.config.installNamespace,
  };
}

function familyCandidates(choice: RuleChoice, ctx: FilterContext, known: KnownObjects): FamilyCandidates {
  const { family } = ctx;
  const written = family === 4 ? choice.names.ipv4 : choice.names.ipv6;
  const existing = choice.kind === "subnet" ? known.subnets : known.pools;
  const { names, unmatchedGlobs } = expandNames(written, [...existing.keys()]);
  const what = choice.kind === "subnet" ? "subnet" : "pool";
  const filtered: Filtered[] = unmatchedGlobs.map((g) => ({ name: g, reason: "not-found", detail: `matches no ${what}` }));
  const candidates: Candidate[] = [];
  for (const name of names) {
    const pool = known.pools.get(name);
    const subnet = known.subnets.get(name);
    const verdict =
      choice.kind === "subnet"
        ? subnet && subnetVerdict(subnet, family)
        : pool && poolVerdict(pool, ctx);
    if (verdict === undefined) filtered.push({ name, reason: "not-found", detail: "does not exist" });
    else if (!verdict.ok) filtered.push({ name, reason: verdict.reason, detail: verdict.detail });
    else candidates.push(verdict.node === undefined ? { name } : { name, node: verdict.node });
  }
  return { family, rule: choice.rule, kind: choice.kind, candidates, filtered };
}

function failureOf(nic: string, c: FamilyCandidates, written: number): Failure | undefined {
  if (c.candidates.length > 0) return undefined;
  const source = describeRule(c.rule, c.family);
  const fam = familyName(c.family);
  const what = c.kind === "subnet" ? "subnet" : "pool";
  const sentence =
    written === 0
      ? `${source} names no ${fam} ${what} for ${nic}, but ${fam} is enabled`
      : `no ${fam} ${what} from ${source} can serve ${nic}: ${c.filtered.map((f) => `${f.name} ${f.detail}`).join("; ")}`;
  return { interface: nic, family: c.family, rule: c.rule, filtered: c.filtered, sentence };
}

function refusal(input: SelectionInput, failures: Failure[]): IpamError {
  const pod = `${input.pod.namespace}/${input.pod.name ?? "(new pod)"}`;
  const reasons = failures.flatMap((f) => f.filtered.map((x) => x.reason));
  const allMissing = failures.every((f) => f.filtered.length > 0) && reasons.every((r) => r === "not-found");
  const subnetsOnly = failures.every((f) => f.rule === "subnet" || f.rule === "subnets");
  const code = allMissing ? (subnetsOnly ? "SUBNET_NOT_FOUND" : "POOL_NOT_FOUND") : "NO_CANDIDATE_POOL";
  return new IpamError(code, `pod ${pod} cannot get an address: ${failures.map((f) => f.sentence).join("; also, ")}`, {
    pod,
    failures: failures.map(({ sentence: _s, ...f }) => f),
  });
}

/**
 * The ordered candidate pools (or subnets) per NIC and family, following api.md "Which pools
 * a NIC may use": the first applicable rule, then the filters; ties keep the user's order.
 * Throws AnnotationError for a bad annotation, and one IpamError naming every NIC and family
 * that has no candidate (NO_CANDIDATE_POOL, or POOL_NOT_FOUND / SUBNET_NOT_FOUND when every
 * name given simply does not exist).
 */
export function selectCandidates(input: SelectionInput): NicCandidates[] {
  const ann = readPoolAnnotations(input);
  const known: KnownObjects = { pools: byName(input.pools), subnets: byName(input.subnets) };
  const families: Family[] = [];
  if (input.config.enableIPv4) families.push(4);
  if (input.config.enableIPv6) families.push(6);
  const failures: Failure[] = [];
  const result = input.nics.map((nic): NicCandidates => {
    const choice = chooseRule(nic, input, ann);
    const base = { interface: nic.interface, ...(nic.network && { network: nic.network }) };
    if (choice === undefined) {
      failures.push({
        interface: nic.interface,
        filtered: [],
        sentence:
          `no rule gives ${nic.interface} a pool: set annotation ${ANNO_IPPOOL}, a namespace or CNI default pool, ` +
          "a cluster default pool, or mark a pool default: true",
      });
      return { ...base, cleanGateway: nic.cleanGateway ?? false };
    }
    const out: { ipv4?: FamilyCandidates; ipv6?: FamilyCandidates } = {};
    for (const family of families) {
      const c = familyCandidates(choice, filterContext(input, nic, family), known);
      const written = (family === 4 ? choice.names.ipv4 : choice.names.ipv6).length;
      const failure = failureOf(nic.interface, c, written);
      if (failure !== undefined) failures.push(failure);
      if (family === 4) out.ipv4 = c;
      else out.ipv6 = c;
    }
    return { ...base, cleanGateway: choice.cleanGateway, ...out };
  });
  if (failures.length > 0) throw refusal(input, failures);
  return result;
}
