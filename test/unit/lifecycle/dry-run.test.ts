import { describe, expect, it } from "@jest/globals";
import { IPSet } from "../../../ipam/address/ipset.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { DryRunAllocator } from "../../../ipam/lifecycle/dry-run.js";
import { FakeClock } from "../../fakes/clock.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, ip, pool, reservation, writerOver } from "./fixtures.js";

describe("DryRunAllocator", () => {
  const build = (store: FakeStore<SpiderIPPool>, clock = new FakeClock()) =>
    new DryRunAllocator({ cached: (n) => store.peek(n), reserved: (f) => IPSet.empty(f), clock, coolDownMs: 0 });

  it("answers what the writer would, and writes nothing", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const clock = new FakeClock();
    const dry = await build(store, clock).submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("a", clock) });
    const { writer } = writerOver(store);
    const real = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("a", clock) });
    expect(dry.ok && dry.kind === "allocate" && dry.allocation.address).toBe(ip("10.6.0.10"));
    expect(real.ok && real.kind === "allocate" && real.allocation.address).toBe(ip("10.6.0.10"));
    expect(store.writes.filter((w) => w.op === "replaceStatus")).toHaveLength(1); // the real one only
  });

  it("lets the requests of one admission see each other", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const clock = new FakeClock();
    const dry = build(store, clock);
    const a = await dry.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("a", clock) });
    const b = await dry.submit("p", { kind: "allocate", interface: "net1", reservation: reservation("a", clock) });
    expect([a, b].map((x) => x.ok && x.kind === "allocate" && x.allocation.address)).toEqual([ip("10.6.0.10"), ip("10.6.0.11")]);
    expect(heldIn(store, "p")).toEqual([]);
    expect(store.writes).toEqual([]);
  });

  it("refuses a terminating pool as the writer does", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed({ ...pool("p"), metadata: { name: "p", deletionTimestamp: "2026-01-01T00:00:00Z" } });
    const clock = new FakeClock();
    expect(await build(store, clock).submit("p", { kind: "allocate", reservation: reservation("a", clock) })).toMatchObject({ ok: false, error: { code: "POOL_NOT_ALLOWED" } });
  });

  it("rejects an unknown pool with POOL_NOT_FOUND", async () => {
    const clock = new FakeClock();
    await expect(build(new FakeStore<SpiderIPPool>(), clock).submit("nope", { kind: "allocate", reservation: reservation("a", clock) })).rejects.toMatchObject({ code: "POOL_NOT_FOUND" });
  });
});
