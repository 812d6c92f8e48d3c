import type { Family } from "../address/ip.js";
import { familyName } from "../address/ip.js";
import { formatNetworkRef } from "../annotations/multus.js";
import type { NetworkRef } from "../kinds/meta.js";
import { specFamily } from "../allocation/pool-view.js";
import { IpamError } from "../errors.js";
import type { SpiderIPPool } from "../kinds/ippool.js";
import type { ObjectMeta } from "../kinds/meta.js";
import type { SpiderSubnet } from "../kinds/subnet.js";
import { type Labels, describeSelector, matchesSelector } from "./label-selector.js";
import type { FilterReason, NodeConstraint } from "./types.js";

/** What the filters know about the Pod and the NIC being served. */
export interface FilterContext {
  readonly family: Family;
  readonly podNamespace: string;
  readonly podLabels?: Labels;
  readonly namespaceLabels?: Labels;
  readonly node?: { readonly name: string; readonly labels?: Labels };
  readonly interface: string;
  readonly network?: NetworkRef;
  readonly installNamespace: string;
}

export type Verdict =
  | { readonly ok: true; readonly node?: NodeConstraint }
  | { readonly ok: false; readonly reason: FilterReason; readonly detail: string };

type Refusal = Extract<Verdict, { ok: false }>;

const no = (reason: FilterReason, detail: string): Refusal => ({ ok: false, reason, detail });

/** Filters shared by pools and subnets: terminating, spec unreadable, wrong family. */
function objectVerdict(obj: { metadata: ObjectMeta; spec: SpiderSubnet["spec"] }, family: Family): Verdict | undefined {
  if (obj.metadata.deletionTimestamp !== undefined) return no("terminating", "is being deleted");
  let actual: Family;
  try {
    actual = specFamily(obj.metadata.name ?? "", obj.spec);
  } catch (err) {
    return no("invalid", `has an invalid spec (${err instanceof Error ? err.message : String(err)})`);
  }
  if (actual !== family) return no("wrong-family", `is ${familyName(actual)}, not ${familyName(family)}`);
  return undefined;
}

function sameNetwork(entry: string, net: NetworkRef, installNamespace: string): boolean {
  const [ns, name] = entry.includes("/") ? entry.split("/", 2) : [installNamespace, entry];
  return ns === net.namespace && name === net.name;
}

type PoolSpec = SpiderIPPool["spec"];

/**
 * nodeName, else nodeAffinity. When the node is not known yet, a node-affine pool passes
 * with its constraint.
 */
function nodeVerdict(spec: PoolSpec, ctx: FilterContext): Verdict {
  const nodeNames = spec.nodeName ?? [];
  if (nodeNames.length > 0) {
    if (ctx.node === undefined) return { ok: true, node: { nodeName: nodeNames } };
    if (!nodeNames.includes(ctx.node.name)) return no("node", `does not serve node ${ctx.node.name} (nodeName [${nodeNames.join(", ")}])`);
  } else if (spec.nodeAffinity !== undefined) {
    if (ctx.node === undefined) return { ok: true, node: { nodeAffinity: spec.nodeAffinity } };
    if (!matchesSelector(spec.nodeAffinity, ctx.node.labels)) {
      return no("node", `does not serve node ${ctx.node.name} (nodeAffinity ${describeSelector(spec.nodeAffinity)})`);
    }
  }
  return { ok: true };
}

/** namespaceName, else namespaceAffinity. */
function namespaceRefusal(spec: PoolSpec, ctx: FilterContext): Refusal | undefined {
  const namespaces = spec.namespaceName ?? [];
  if (namespaces.length > 0) {
    if (namespaces.includes(ctx.podNamespace)) return undefined;
    return no("namespace", `does not serve namespace ${ctx.podNamespace} (namespaceName [${namespaces.join(", ")}])`);
  }
  if (spec.namespaceAffinity === undefined) return undefined;
  // The label every namespace carries, so selectors on it work even without the object.
  const labels = { ...ctx.namespaceLabels, "kubernetes.io/metadata.name": ctx.podNamespace };
  if (matchesSelector(spec.namespaceAffinity, labels)) return undefined;
  return no("namespace", `does not serve namespace ${ctx.podNamespace} (namespaceAffinity ${describeSelector(spec.namespaceAffinity)})`);
}

function podRefusal(spec: PoolSpec, ctx: FilterContext): Refusal | undefined {
  if (spec.podAffinity === undefined || matchesSelector(spec.podAffinity, ctx.podLabels)) return undefined;
  return no("pod", `does not serve this pod's labels (podAffinity ${describeSelector(spec.podAffinity)})`);
}

function multusRefusal(spec: PoolSpec, ctx: FilterContext): Refusal | undefined {
  const multus = spec.multusName ?? [];
  if (multus.length === 0) return undefined;
  const net = ctx.network;
  const wanted = `multusName [${multus.join(", ")}]`;
  if (net === undefined) return no("multus", `serves only ${wanted}, and ${ctx.interface} is not attached through a known Multus network`);
  if (multus.some((m) => sameNetwork(m, net, ctx.installNamespace))) return undefined;
  return no("multus", `${ctx.interface} is attached through ${formatNetworkRef(net)}, not ${wanted}`);
}

/**
 * Whether `pool` may serve this NIC, in api.md's filter order. When the node is not known
 * yet, a node-affine pool passes and its constraint is returned for the Pod's scheduling.
 */
export function poolVerdict(pool: SpiderIPPool, ctx: FilterContext): Verdict {
  const base = objectVerdict(pool, ctx.family);
  if (base !== undefined) return base;
  const spec = pool.spec;
  if (spec.disable === true) return no("disabled", "is disabled");
  const node = nodeVerdict(spec, ctx);
  if (!node.ok) return node;
  return namespaceRefusal(spec, ctx) ?? podRefusal(spec, ctx) ?? multusRefusal(spec, ctx) ?? node;
}

export function subnetVerdict(subnet: SpiderSubnet, family: Family): Verdict {
  return objectVerdict(subnet, family) ?? { ok: true };
}

/**
 * For a pinned address or a pool named outside the rules: throws POOL_NOT_ALLOWED naming the
 * filter that refuses the pool, and returns the node constraint otherwise.
 */
export function assertPoolAllowed(pool: SpiderIPPool, ctx: FilterContext): NodeConstraint | undefined {
  const v = poolVerdict(pool, ctx);
  if (v.ok) return v.node;
  const name = pool.metadata.name ?? "";
  throw new IpamError(
    "POOL_NOT_ALLOWED",
    `pool ${name} may not serve ${ctx.interface} of a pod in namespace ${ctx.podNamespace}: it ${v.detail}`,
    { pool: name, reason: v.reason, interface: ctx.interface },
  );
}
