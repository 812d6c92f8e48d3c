import { describe, expect, it } from "@jest/globals";
import { IPSet } from "../../../ipam/address/ipset.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { DryRunAllocator } from "../../../ipam/lifecycle/dry-run.js";
import { explainAllocation } from "../../../ipam/lifecycle/explain.js";
import type { PodFacts } from "../../../ipam/lifecycle/reserve.js";
import { FakeClock } from "../../fakes/clock.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reserveContext } from "./fixtures.js";

const pod = (annotations: Record<string, string> = {}): PodFacts => ({ namespace: "ns", name: "p", labels: {}, annotations });

function setup(...pools: SpiderIPPool[]) {
  const store = new FakeStore<SpiderIPPool>();
  for (const p of pools) store.seed(p);
  const clock = new FakeClock();
  const dry = new DryRunAllocator({ cached: (n) => store.peek(n), reserved: (f) => IPSet.empty(f), clock, coolDownMs: 0 });
  return { store, ctx: { ...reserveContext(store, dry, clock), dryRun: true } };
}

describe("explainAllocation (kubectl spiderpool why)", () => {
  it("names the rule, the candidates in order and the pools filtered out, then what a dry run gives, writing nothing", async () => {
    const { store, ctx } = setup(pool("a"), pool("b", { subnet: "10.7.0.0/24", ips: ["10.7.0.10"], disable: true }), pool("c", { subnet: "10.8.0.0/24", ips: ["10.8.0.10"] }));
    const r = await explainAllocation(pod({ "ipam.spidernet.io/ippool": '{"ipv4":["b","a","c"]}' }), ctx);
    expect(r.families).toEqual([
      expect.objectContaining({ interface: "eth0", family: 4, rule: "ippool", source: "annotation ipam.spidernet.io/ippool", kind: "pool", candidates: ["a", "c"], filtered: [expect.objectContaining({ name: "b", reason: "disabled" })] }),
    ]);
    expect(r.dryRun).toEqual([expect.objectContaining({ interface: "eth0", ipv4: "10.6.0.10/24", ipv4Pool: "a" })]);
    expect(r.refusal).toBeUndefined();
    expect(store.writes).toEqual([]);
    expect(heldIn(store, "a")).toEqual([]);
  });

  it("reports the refusal admission would give, with what selection found before it", async () => {
    const { ctx } = setup(pool("a", { ips: ["10.6.0.10"] }));
    const r = await explainAllocation(pod({ "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.6.0.99"}]', "ipam.spidernet.io/ippool": '{"ipv4":["a"]}' }), ctx);
    expect(r.families.map((f) => f.candidates)).toEqual([["a"]]);
    expect(r.dryRun).toBeUndefined();
    expect(r.refusal).toContain("10.6.0.99");
  });

  it("says when no rule gives a NIC a pool", async () => {
    const { ctx } = setup(pool("a"));
    const r = await explainAllocation(pod(), ctx);
    expect(r.families).toEqual([]);
    expect(r.refusal).toMatch(/no rule gives eth0 a pool/);
  });
});
