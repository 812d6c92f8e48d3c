import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { ConflictError } from "../../../ipam/ports.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, ip, pool, reservation, writerOver } from "./fixtures.js";

/**
 * The pool writer against a fake store that behaves like the apiserver (resourceVersion
 * compare-and-swap): group commit, the conflict-retry path, giving up, and errors that
 * reach every request of a batch.
 */
describe("PoolWriter", () => {
  it("carries concurrent requests for one pool in one write (group commit)", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p", { ips: ["10.6.0.10-10.6.0.19"] }));
    const { writer, clock, batches } = writerOver(store);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation(`r${i}`, clock) })));
    expect(answers.every((a) => a.ok)).toBe(true);
    // The first request goes alone (nothing was in flight); the four that queued behind it share the next write.
    expect(batches).toEqual([1, 4]);
    expect(heldIn(store, "p")).toEqual(["10.6.0.10", "10.6.0.11", "10.6.0.12", "10.6.0.13", "10.6.0.14"]);
  });

  it("re-reads the pool after losing a compare-and-swap and keeps the other writer's address", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const other = writerOver(store).writer;
    const { writer, clock, conflicts, log } = writerOver(store);
    // Another replica takes 10.6.0.10 between our read and our write, once.
    let raced = false;
    store.beforeWrite = (op) => {
      if (op !== "replaceStatus" || raced) return;
      raced = true;
      store.beforeWrite = undefined;
      void other.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("theirs", clock) });
    };
    const beforeReads = store.reads.length;
    const mine = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("mine", clock) });
    expect(mine.ok && mine.kind === "allocate" && mine.allocation.address).toBe(ip("10.6.0.11"));
    expect(heldIn(store, "p")).toEqual(["10.6.0.10", "10.6.0.11"]);
    expect(conflicts).toEqual(["p"]);
    expect(store.reads.length).toBeGreaterThan(beforeReads); // the retry read the pool again
    expect(clock.slept).toHaveLength(1);
    // A lost compare-and-swap is the protocol working: a debug line, never a warning.
    expect(log.at("debug").map((l) => l.message)).toContain("pool write lost a compare-and-swap; re-reading");
    expect(log.at("warn")).toEqual([]);
  });

  it("gives up after the policy's attempts and rejects every request of the batch with the conflict", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const { writer, clock, conflicts } = writerOver(store, { retry: { attempts: 3, baseMs: 10, maxMs: 10, jitter: false } });
    store.beforeWrite = (op, obj) => {
      // Someone else writes the pool every time, so our resourceVersion is always stale.
      if (op === "replaceStatus" && obj) store.seed({ ...(store.peek("p") as SpiderIPPool) });
    };
    const both = [writer.submit("p", { kind: "allocate", reservation: reservation("a", clock) }), writer.submit("p", { kind: "allocate", reservation: reservation("b", clock) })];
    for (const r of await Promise.allSettled(both)) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    }
    expect(conflicts.length).toBe(2 * 2); // two batches, two retried conflicts each before the third attempt fails
    expect(clock.slept).toEqual([10, 10, 10, 10]);
    expect(heldIn(store, "p")).toEqual([]);
  });

  it("fails a batch on a pool that does not exist with POOL_NOT_FOUND", async () => {
    const { writer, clock } = writerOver(new FakeStore<SpiderIPPool>());
    await expect(writer.submit("nope", { kind: "allocate", reservation: reservation("a", clock) })).rejects.toMatchObject({ code: "POOL_NOT_FOUND" });
  });

  it("refuses allocations from a disabled pool but still releases from it", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const { writer, clock } = writerOver(store);
    const got = await writer.submit("p", { kind: "allocate", reservation: reservation("a", clock) });
    if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
    const current = store.peek("p") as SpiderIPPool;
    await store.replace({ ...current, spec: { ...current.spec, disable: true } });
    const refused = await writer.submit("p", { kind: "allocate", reservation: reservation("b", clock) });
    expect(refused).toMatchObject({ ok: false, error: { code: "POOL_NOT_ALLOWED" } });
    const released = await writer.submit("p", { kind: "release", address: got.allocation.address, token: got.allocation.token });
    expect(released).toMatchObject({ ok: true, outcome: "released" });
    expect(heldIn(store, "p")).toEqual([]);
  });

  it("does not write when the requests change nothing (a repeat)", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const { writer, clock } = writerOver(store);
    const res = reservation("a", clock, "app/web-0");
    await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: res });
    const writes = store.writes.length;
    const again = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: res });
    expect(again).toMatchObject({ ok: true, allocation: { reused: true } });
    expect(store.writes.length).toBe(writes);
  });
});
