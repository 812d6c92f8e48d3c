import { createHash } from "node:crypto";
import type { PoolContext } from "../../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { ConflictError, type Clock, type Log } from "../../ipam/ports.js";
import { retry, type RetryPolicy } from "../../ipam/retry.js";
import type { AdmissionRequest, AdmissionReview } from "./review.js";

/** The claims object: read with its version, written with compare-and-swap (k8s/claims.ts). */
export interface ClaimsStore {
  read(): Promise<{ entries: Readonly<Record<string, string>>; resourceVersion?: string }>;
  write(entries: Record<string, string>, read: { entries: Readonly<Record<string, string>>; resourceVersion?: string }): Promise<void>;
}

/** A pool or subnet admitted but perhaps not stored (nor cached) yet. */
interface Claim {
  kind: "SpiderIPPool" | "SpiderSubnet";
  name: string;
  /** The object's uid (assigned before validating admission): what lets a cache recognise it. */
  uid?: string;
  spec: unknown;
  /** When it was admitted (ms). */
  at: number;
}

/** The digest of a spec, as a cache and a claim both hold it (the apiserver serialises both the same way). */
function specKey(spec: unknown): string {
  return createHash("sha256").update(JSON.stringify(spec ?? null)).digest("hex");
}

/**
 * What this replica's caches have seen of pools and subnets: uid -> the specs seen. A claim
 * exists only to cover the moment before the caches see the object; once this replica's
 * cache has seen that uid with that spec, the cache is the truth for it, deletion included
 * (a claim of a pool deleted since must not keep blocking its addresses). A deleted uid is
 * forgotten once no claim can still name it.
 */
export class SeenSpecs {
  private readonly seen = new Map<string, Set<string>>();
  constructor(private readonly forgetAfterMs: number) {}

  note(obj: { metadata: { uid?: string }; spec?: unknown }): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const specs = this.seen.get(uid) ?? new Set<string>();
    specs.add(specKey(obj.spec));
    this.seen.set(uid, specs);
  }

  deleted(obj: { metadata: { uid?: string } }): void {
    const uid = obj.metadata.uid;
    if (uid) setTimeout(() => this.seen.delete(uid), this.forgetAfterMs).unref();
  }

  has(uid: string, spec: unknown): boolean {
    return this.seen.get(uid)?.has(specKey(spec)) ?? false;
  }
}

export interface OverlapOptions {
  claims: ClaimsStore;
  /** This replica's view of what its caches already hold. */
  seen: SeenSpecs;
  clock: Clock;
  /** How long an admitted object stays claimed: longer than it takes to be stored and reach every replica's cache. */
  ttlMs: number;
  log: Log;
}

/** Judges an object against a context; the serialiser adds what other admissions claimed. */
export type Judge = (ctx: PoolContext) => AdmissionReview;

/** Replaces or adds the claimed objects, by name. */
function withClaimed<T extends { metadata: { name?: string } }>(cached: readonly T[], claimed: readonly Claim[], kind: Claim["kind"]): T[] {
  const mine = claimed.filter((c) => c.kind === kind);
  if (mine.length === 0) return [...cached];
  const names = new Set(mine.map((c) => c.name));
  const apiVersion = "spiderpool.spidernet.io/v2beta1";
  return [...cached.filter((o) => !names.has(o.metadata.name ?? "")), ...mine.map((c) => ({ apiVersion, kind, metadata: { name: c.name }, spec: c.spec }) as unknown as T)];
}

/** The entries that still claim something at `now`, by key. A damaged entry claims nothing and is dropped at the next write. */
function liveClaims(entries: Readonly<Record<string, string>>, now: number, ttlMs: number, seen: SeenSpecs): Map<string, Claim> {
  const out = new Map<string, Claim>();
  for (const [key, text] of Object.entries(entries)) {
    try {
      const claim = JSON.parse(text) as Claim;
      const cached = claim.uid !== undefined && seen.has(claim.uid, claim.spec);
      if (typeof claim.at === "number" && claim.at + ttlMs > now && !cached) out.set(key, claim);
    } catch {
      continue;
    }
  }
  return out;
}

/** A lost compare-and-swap on the claims object is the protocol working: read again soon. */
const CLAIM_RETRY: RetryPolicy = { attempts: 20, baseMs: 10, maxMs: 400, jitter: true, deadlineMs: 8000 };

/**
 * Overlap between pools and subnets, decided under one cluster-wide serialisation. The
 * rules compare a new object with every other one; the caches cannot see an object another
 * replica (or this one, a moment ago) admitted but the apiserver has not stored yet, so two
 * overlapping creations at the same moment both passed. Every admitted pool or subnet is
 * therefore first claimed in one ConfigMap, written with compare-and-swap: each judgement
 * sees the caches plus every live claim, and only one of two racing writers can record its
 * claim on the version both read; the other reads again and is judged against the winner.
 */
export function overlapSerialiser(o: OverlapOptions) {
  return async (req: AdmissionRequest, kind: Claim["kind"], obj: { metadata: { name?: string; uid?: string }; spec?: unknown }, context: () => PoolContext, judge: Judge): Promise<AdmissionReview> => {
    const name = obj.metadata.name ?? req.name ?? "";
    const key = `${kind === "SpiderIPPool" ? "pool" : "subnet"}.${name}`;
    return retry(
      async () => {
        const read = await o.claims.read();
        const now = o.clock.now();
        // The caches are read again at each attempt: a claim skipped because the cache has seen its object must find it there.
        const base = context();
        const claims = liveClaims(read.entries, now, o.ttlMs, o.seen);
        claims.delete(key);
        const live = [...claims.values()];
        const ctx: PoolContext = { ...base, pools: withClaimed<SpiderIPPool>(base.pools, live, "SpiderIPPool"), subnets: withClaimed<SpiderSubnet>(base.subnets, live, "SpiderSubnet") };
        const answer = judge(ctx);
        if (!answer.response?.allowed || req.dryRun) return answer;
        const kept = Object.fromEntries([...claims.keys()].map((k) => [k, read.entries[k] ?? ""]));
        const uid = obj.metadata.uid;
        await o.claims.write({ ...kept, [key]: JSON.stringify({ kind, name, ...(uid ? { uid } : {}), spec: obj.spec, at: now } satisfies Claim) }, read);
        return answer;
      },
      {
        policy: CLAIM_RETRY,
        clock: o.clock,
        retryable: (err) => err instanceof ConflictError,
        onRetry: (_err, attempt) => o.log.debug({ object: key, attempt }, "claims changed meanwhile; judging again"),
      },
    );
  };
}

export type OverlapSerialiser = ReturnType<typeof overlapSerialiser>;
