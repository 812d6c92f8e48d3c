import { describe, expect, it } from "@jest/globals";
import type { PoolRequest, PoolResponse } from "../../../ipam/allocation/requests.js";
import { IpamError } from "../../../ipam/errors.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import type { Allocator } from "../../../ipam/ports.js";
import { meteredReleases } from "../../../webhook/metered-releases.js";
import { ControllerMetrics } from "../../../webhook/metrics.js";

/** A metric's samples as label set → value. */
async function samples(m: ControllerMetrics, name: string): Promise<Record<string, number>> {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const got = await metric.get();
  return Object.fromEntries(got.values.map((v) => [JSON.stringify(v.labels), v.value]));
}

const release: PoolRequest = { kind: "release", address: 10n, token: 1 };
const allocate: PoolRequest = { kind: "allocate" };
const bind: PoolRequest = { kind: "bind", reservation: "r" };
const releaseReservation: PoolRequest = { kind: "release-reservation", reservation: "r" };

/** An allocator that answers each call with the next of `outcomes` (an Error is thrown). */
function scripted(outcomes: (PoolResponse | Error)[]): Allocator & { calls: number } {
  const a = {
    calls: 0,
    submit(): Promise<PoolResponse> {
      const next = outcomes[a.calls++];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next as PoolResponse);
    },
  };
  return a;
}

describe("meteredReleases", () => {
  it("times every release and counts failed ones by their error code, or UNAVAILABLE when the write itself failed", async () => {
    const m = new ControllerMetrics();
    const inner = scripted([
      { ok: true, kind: "release", outcome: "released" },
      { ok: false, kind: "release", error: new IpamError("POOL_NOT_FOUND", "gone") },
      new IpamError("ALLOCATION_CORRUPT", "corrupt record"),
      new Error("socket hang up"),
    ]);
    const metered = meteredReleases(inner, m);
    await metered.submit("p", release);
    await metered.submit("p", release);
    await expect(metered.submit("p", releaseReservation)).rejects.toThrow("corrupt record");
    await expect(metered.submit("p", release)).rejects.toThrow("socket hang up");
    expect(await samples(m, "spiderpool_ipam_release_failure_counts_total")).toEqual({
      '{"reason":"POOL_NOT_FOUND"}': 1,
      '{"reason":"ALLOCATION_CORRUPT"}': 1,
      '{"reason":"UNAVAILABLE"}': 1,
    });
    expect((await samples(m, "spiderpool_ipam_release_duration_seconds"))['{"le":"+Inf"}']).toBe(4);
  });

  it("passes allocations and bindings through untimed", async () => {
    const m = new ControllerMetrics();
    const inner = scripted([{ ok: false, kind: "allocate", error: new IpamError("POOL_EXHAUSTED", "full") }, { ok: true, kind: "bind", found: true, held: [] }]);
    const metered = meteredReleases(inner, m);
    expect((await metered.submit("p", allocate)).ok).toBe(false);
    expect((await metered.submit("p", bind)).ok).toBe(true);
    expect(inner.calls).toBe(2);
    expect(await samples(m, "spiderpool_ipam_release_failure_counts_total")).toEqual({});
    expect((await samples(m, "spiderpool_ipam_release_duration_seconds"))['{"le":"+Inf"}']).toBe(0);
  });
});

describe("ControllerMetrics", () => {
  it("counts a lost compare-and-swap in the family of each kind of request its write carried", async () => {
    const m = new ControllerMetrics();
    m.observeConflict([allocate, allocate]);
    m.observeConflict([release]);
    m.observeConflict([bind, releaseReservation]);
    expect(await samples(m, "spiderpool_ipam_allocation_update_ippool_conflict_counts_total")).toEqual({ "{}": 2 });
    expect(await samples(m, "spiderpool_ipam_release_update_ippool_conflict_counts_total")).toEqual({ "{}": 2 });
  });

  it("exports each subnet's pools, total and not-yet-handed-out addresses, skipping subnets without a status", async () => {
    const m = new ControllerMetrics();
    const subnet = (name: string, status?: SpiderSubnet["status"]): SpiderSubnet => ({ metadata: { name }, spec: { subnet: "10.0.0.0/24" }, ...(status ? { status } : {}) });
    m.refreshSubnets([
      subnet("s1", { totalIPCount: 100, allocatedIPCount: 30, controlledIPPools: { a: {} as never, b: {} as never } }),
      subnet("s2", { totalIPCount: 10 }),
      subnet("new"),
    ]);
    expect(await samples(m, "spiderpool_subnet_total_ip_counts")).toEqual({ '{"subnet":"s1"}': 100, '{"subnet":"s2"}': 10 });
    expect(await samples(m, "spiderpool_subnet_available_ip_counts")).toEqual({ '{"subnet":"s1"}': 70, '{"subnet":"s2"}': 10 });
    expect(await samples(m, "spiderpool_subnet_ippool_counts")).toEqual({ '{"subnet":"s1"}': 2, '{"subnet":"s2"}': 0 });
    // A subnet that is gone leaves no stale series.
    m.refreshSubnets([]);
    expect(await samples(m, "spiderpool_subnet_total_ip_counts")).toEqual({});
  });
});
