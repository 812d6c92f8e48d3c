import { describe, expect, it } from "@jest/globals";
import { IPSet } from "../../../ipam/address/ipset.js";
import type { PoolContext } from "../../../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { ConflictError } from "../../../ipam/ports.js";
import { ippoolRules, kindHandlers } from "../../../webhook/admission/kinds.js";
import { overlapSerialiser, SeenSpecs, type ClaimsStore } from "../../../webhook/admission/overlap.js";
import type { AdmissionRequest } from "../../../webhook/admission/review.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";

/** A claims object with compare-and-swap, whose reads all happen before any write lands (the race of two replicas). */
class RacingClaims implements ClaimsStore {
  entries: Record<string, string> = {};
  version = 0;
  writes = 0;
  conflicts = 0;
  read() {
    return Promise.resolve({ entries: { ...this.entries }, resourceVersion: this.version === 0 ? undefined : String(this.version) });
  }
  write(entries: Record<string, string>, read: { resourceVersion?: string }) {
    if ((read.resourceVersion ?? "0") !== String(this.version)) {
      this.conflicts++;
      return Promise.reject(new ConflictError("changed"));
    }
    this.entries = entries;
    this.version++;
    this.writes++;
    return Promise.resolve();
  }
}

const pool = (name: string, subnet: string): SpiderIPPool => ({ apiVersion: "spiderpool.spidernet.io/v2beta1", kind: "SpiderIPPool", metadata: { name, uid: `uid-${name}` }, spec: { ipVersion: 4, subnet, ips: [] } });

const request = (name: string, subnet: string, dryRun = false): AdmissionRequest => ({
  uid: name,
  kind: { group: "spiderpool.spidernet.io", version: "v2beta1", kind: "SpiderIPPool" },
  resource: { group: "spiderpool.spidernet.io", version: "v2beta1", resource: "spiderippools" },
  operation: "CREATE",
  userInfo: { username: "admin" },
  dryRun,
  object: pool(name, subnet),
});

/**
 * Issue 13: two overlapping pools created at the same moment were both admitted, each judged
 * on a cache that held neither. Under the claims object's compare-and-swap, the second is
 * judged against the first's claim.
 */
describe("pool overlap under one serialisation", () => {
  const setup = () => {
    const claims = new RacingClaims();
    const clock = new FakeClock();
    // The cache holds neither pool, on every replica.
    const context = (): PoolContext => ({ pools: [], subnets: [], held: () => IPSet.empty(4) });
    const seen = new SeenSpecs(30_000);
    const h = kindHandlers<SpiderIPPool>(ippoolRules, context, overlapSerialiser({ claims, seen, clock, ttlMs: 30_000, log: new RecordingLog() }));
    return { claims, clock, seen, validate: h.validate };
  };

  it("admits only one of two overlapping pools judged at the same moment", async () => {
    const t = setup();
    const answers = await Promise.all([t.validate(request("a", "10.7.0.0/24")), t.validate(request("b", "10.7.0.0/25"))]);
    expect(answers.map((a) => a.response?.allowed).sort()).toEqual([false, true]);
    expect(answers.find((a) => !a.response?.allowed)?.response?.status?.message).toContain("overlaps pool");
    expect(t.claims.conflicts).toBeGreaterThan(0);
  });

  it("claims nothing for a dry run or a refusal, and forgets claims after their lifetime", async () => {
    const t = setup();
    expect((await t.validate(request("a", "10.7.0.0/24", true))).response?.allowed).toBe(true);
    expect(t.claims.writes).toBe(0);
    expect((await t.validate(request("a", "10.7.0.0/24"))).response?.allowed).toBe(true);
    expect((await t.validate(request("b", "10.7.0.0/25"))).response?.allowed).toBe(false);
    expect(t.claims.writes).toBe(1);
    t.clock.advance(30_000);
    // The cache now holds what was stored; the claim is no longer needed and is dropped at the next write.
    expect((await t.validate(request("c", "10.8.0.0/24"))).response?.allowed).toBe(true);
    expect(Object.keys(t.claims.entries)).toEqual(["pool.c"]);
  });

  it("stops counting a claim once this replica's cache has seen the object: a pool deleted since no longer blocks its addresses", async () => {
    const t = setup();
    expect((await t.validate(request("a", "10.7.0.0/24"))).response?.allowed).toBe(true);
    // The cache sees pool a stored, then deleted, well within the claim's lifetime.
    t.seen.note(pool("a", "10.7.0.0/24"));
    t.seen.deleted(pool("a", "10.7.0.0/24"));
    expect((await t.validate(request("b", "10.7.0.0/25"))).response?.allowed).toBe(true);
  });

  it("judges a retry on the caches as they are then: a claim skipped because the cache has its object finds the object there", async () => {
    const claims = new RacingClaims();
    const seen = new SeenSpecs(30_000);
    const cached: SpiderIPPool[] = [];
    const write = claims.write.bind(claims);
    // The winner is stored and reaches the cache (and the seen specs) right after its claim lands.
    claims.write = async (entries, read) => {
      await write(entries, read);
      const winner = Object.keys(entries).find((k) => k.startsWith("pool."))?.slice(5) ?? "";
      const stored = pool(winner, winner === "a" ? "10.7.0.0/24" : "10.7.0.0/25");
      cached.push(stored);
      seen.note(stored);
    };
    const h = kindHandlers<SpiderIPPool>(ippoolRules, () => ({ pools: [...cached], subnets: [], held: () => IPSet.empty(4) }), overlapSerialiser({ claims, seen, clock: new FakeClock(), ttlMs: 30_000, log: new RecordingLog() }));
    const answers = await Promise.all([h.validate(request("a", "10.7.0.0/24")), h.validate(request("b", "10.7.0.0/25"))]);
    expect(answers.map((a) => a.response?.allowed).sort()).toEqual([false, true]);
    expect(claims.conflicts).toBeGreaterThan(0);
  });
});

/**
 * A subnet created a moment before a pool on its CIDR (one `kubectl apply` of both) may not
 * be in this replica's cache yet when the pool is admitted: the pool was then not adopted
 * (no owner reference, no inherited gateway). A live read decides when the cache finds none.
 */
describe("pool adoption by a subnet the cache has not seen yet", () => {
  const subnet = { apiVersion: "spiderpool.spidernet.io/v2beta1", kind: "SpiderSubnet", metadata: { name: "s", uid: "uid-s" }, spec: { ipVersion: 4, subnet: "10.9.0.0/24", ips: ["10.9.0.10-10.9.0.20"], gateway: "10.9.0.1" } } as SpiderSubnet;
  const cached = (subnets: SpiderSubnet[]) => (): PoolContext => ({ pools: [], subnets, held: () => IPSet.empty(4) });

  it("reads the subnets live when the cache has none on the pool's CIDR, and adopts", async () => {
    let liveReads = 0;
    const live = (): Promise<PoolContext> => {
      liveReads++;
      return Promise.resolve(cached([subnet])());
    };
    const h = kindHandlers<SpiderIPPool>(ippoolRules, cached([]), undefined, live);
    const answer = await h.mutate(request("p", "10.9.0.0/24"));
    const patch = JSON.parse(Buffer.from(answer.response?.patch ?? "", "base64").toString() || "[]") as { path: string; value: unknown }[];
    expect(patch).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/metadata/ownerReferences", value: [expect.objectContaining({ kind: "SpiderSubnet", name: "s", uid: "uid-s" })] })]));
    expect(patch).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/spec/gateway", value: "10.9.0.1" })]));
    expect(liveReads).toBe(1);
    // The cache has it: no live read.
    await kindHandlers<SpiderIPPool>(ippoolRules, cached([subnet]), undefined, live).mutate(request("q", "10.9.0.0/24"));
    expect(liveReads).toBe(1);
  });
});
