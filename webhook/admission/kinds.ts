import { isDeepStrictEqual } from "node:util";
import { defaultIPPool, subnetOfPool, validateIPPool, type PoolContext } from "../../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { ObjectMeta } from "../../ipam/kinds/meta.js";
import { defaultReservedIP, reservedIPWarnings, validateReservedIP } from "../../ipam/kinds/reservedip-admission.js";
import type { SpiderReservedIP } from "../../ipam/kinds/reservedip.js";
import type { Violation } from "../../ipam/kinds/spec-rules.js";
import type { Schema } from "../../ipam/kinds/crd-common.js";
import { ippoolCrd } from "../../ipam/kinds/ippool.crd.js";
import { multusConfigCrd } from "../../ipam/kinds/multus-config.crd.js";
import { reservedIPCrd } from "../../ipam/kinds/reservedip.crd.js";
import { shapeViolations } from "../../ipam/kinds/shape.js";
import { subnetCrd } from "../../ipam/kinds/subnet.crd.js";
import { defaultSubnet, validateSubnet } from "../../ipam/kinds/subnet-admission.js";
import { defaultMultusConfig, multusConfigWarnings, validateMultusConfig } from "../../ipam/kinds/multus-config-admission.js";
import type { SpiderMultusConfig } from "../../ipam/kinds/multus-config.js";
import type { SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { diff } from "./json-patch.js";
import { allow, deny, type AdmissionHandler, type AdmissionRequest, type AdmissionReview } from "./review.js";

interface KindRules<T extends { metadata: ObjectMeta }> {
  kind: string;
  /** The CRD's spec schema: a spec of other JSON types is refused before the rules see it. */
  spec?: Schema;
  defaults(obj: T, ctx: PoolContext, creating: boolean): T;
  /**
   * Whether the caches may lack what decides `defaults` (an object created a moment before
   * this one, not yet in the cache): then the context is read live.
   */
  unsure?(obj: T, ctx: PoolContext): boolean;
  validate(obj: T, old: T | undefined, ctx: PoolContext): Violation[];
  warnings?(obj: T, ctx: PoolContext): string[];
}

/** One refusal sentence per violation, joined, prefixed with the object it is about. */
export function refusalMessage(kind: string, name: string | undefined, violations: readonly Violation[]): string {
  return `${kind} ${name ?? ""}: ${violations.map((v) => v.message).join("; ")}`;
}

function objectOf<T>(req: AdmissionRequest): T | undefined {
  return req.object as T | undefined;
}

/** A refusal for a spec the rules cannot read (missing, or of other JSON types than the CRD's). */
function shapeRefusal<T extends { metadata: ObjectMeta }>(rules: KindRules<T>, req: AdmissionRequest, obj: T) {
  const spec = (obj as { spec?: unknown }).spec;
  const violations = !rules.spec ? [] : spec === undefined || spec === null ? [{ field: "spec", message: "spec is required" }] : shapeViolations(spec, rules.spec, "spec");
  return violations.length > 0 ? deny(req, refusalMessage(rules.kind, obj.metadata.name ?? req.name, violations)) : undefined;
}

/**
 * Judges one validation on a context; for pools and subnets it runs under the overlap
 * serialisation (overlap.ts), which adds the objects other admissions claimed meanwhile.
 */
export type Serialise = (req: AdmissionRequest, kind: "SpiderIPPool" | "SpiderSubnet", obj: { metadata: ObjectMeta; spec?: unknown }, context: () => PoolContext, judge: (ctx: PoolContext) => AdmissionReview) => Promise<AdmissionReview>;

/** The mutating and validating handlers of one kind, over a context read from the caches. */
export function kindHandlers<T extends { metadata: ObjectMeta }>(
  rules: KindRules<T>,
  context: () => PoolContext,
  serialise?: Serialise,
  live?: () => Promise<PoolContext>,
): { mutate: AdmissionHandler; validate: AdmissionHandler } {
  return {
    mutate: async (req) => {
      const obj = objectOf<T>(req);
      if (!obj || (req.operation !== "CREATE" && req.operation !== "UPDATE")) return allow(req);
      const refused = shapeRefusal(rules, req, obj);
      if (refused) return refused;
      const cached = context();
      const ctx = live && rules.unsure?.(obj, cached) ? await live() : cached;
      const defaulted = rules.defaults(obj, ctx, req.operation === "CREATE");
      return allow(req, diff(obj, defaulted));
    },
    validate: (req) => {
      const obj = objectOf<T>(req);
      if (!obj || (req.operation !== "CREATE" && req.operation !== "UPDATE")) return allow(req);
      // A change of status or metadata alone (finalizer removal on a terminating object)
      // cannot break a spec rule; judging it would only block the cleanup.
      const stored = req.operation === "UPDATE" ? (req.oldObject as T | undefined) : undefined;
      if (stored && isDeepStrictEqual((stored as { spec?: unknown }).spec, (obj as { spec?: unknown }).spec)) return allow(req);
      const refused = shapeRefusal(rules, req, obj);
      if (refused) return refused;
      // The rules compare with the old spec (immutable fields): one they could not read (never
      // stored by the apiserver, but a forged review may carry it) is judged as a creation.
      const old = stored && !shapeRefusal(rules, req, stored) ? stored : undefined;
      const judge = (ctx: PoolContext): AdmissionReview => {
        const violations = rules.validate(obj, old, ctx);
        if (violations.length > 0) return deny(req, refusalMessage(rules.kind, obj.metadata.name ?? req.name, violations));
        return allow(req, [], rules.warnings?.(obj, ctx) ?? []);
      };
      const serialised = rules.kind === "SpiderIPPool" || rules.kind === "SpiderSubnet" ? rules.kind : undefined;
      return serialise && serialised ? serialise(req, serialised, obj, context, judge) : judge(context());
    },
  };
}

export const ippoolRules: KindRules<SpiderIPPool> = {
  kind: "SpiderIPPool",
  spec: ippoolCrd.spec,
  defaults: defaultIPPool,
  // No subnet on the pool's CIDR in the cache: one may have been created a moment ago.
  unsure: (pool, ctx) => subnetOfPool(pool, ctx.subnets) === undefined,
  validate: validateIPPool,
};

export const subnetRules: KindRules<SpiderSubnet> = {
  kind: "SpiderSubnet",
  spec: subnetCrd.spec,
  defaults: (obj) => defaultSubnet(obj),
  validate: validateSubnet,
};

export const reservedIPRules: KindRules<SpiderReservedIP> = {
  kind: "SpiderReservedIP",
  spec: reservedIPCrd.spec,
  defaults: (obj) => defaultReservedIP(obj),
  validate: (obj, old) => validateReservedIP(obj, old),
  warnings: reservedIPWarnings,
};

export const multusConfigRules: KindRules<SpiderMultusConfig> = {
  kind: "SpiderMultusConfig",
  spec: multusConfigCrd.spec,
  defaults: (obj) => defaultMultusConfig(obj),
  validate: (obj, old) => validateMultusConfig(obj, old),
  warnings: (obj) => multusConfigWarnings(obj),
};
