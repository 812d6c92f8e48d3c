import { describe, expect, it } from "@jest/globals";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { releaseOrphans } from "../../../ipam/lifecycle/orphans.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "./fixtures.js";

describe("releaseOrphans", () => {
  it("releases a bound address no endpoint records only when the previous pass found it orphaned too, and never a pending one", async () => {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p"));
    const w = writerOver(pools);
    await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("bound", w.clock) });
    await w.writer.submit("p", { kind: "bind", reservation: "bound" });
    await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("pending", w.clock) });
    const deps = { pools: () => Promise.resolve(pools.all()), endpoints: () => Promise.resolve([] as SpiderEndpoint[]), allocator: w.writer, log: w.log };
    const first = await releaseOrphans(deps, new Set());
    expect(first.released).toEqual([]);
    expect(heldIn(pools, "p")).toEqual(["10.6.0.10", "10.6.0.11"]);
    const second = await releaseOrphans(deps, first.seen);
    expect(second.released.map((o) => o.address)).toEqual([0x0a06000an]);
    expect(heldIn(pools, "p")).toEqual(["10.6.0.11"]);
  });
});
