import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "./fixtures.js";

/**
 * One request that the apiserver refuses to store (here: a reservation the fake store
 * rejects, as the apiserver rejects an object that grew too large) must not refuse the
 * requests that shared its write.
 */
describe("PoolWriter failure isolation", () => {
  it("retries the requests that were not at fault when a batch's write fails", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p", { ips: ["10.6.0.10-10.6.0.19"] }));
    store.beforeWrite = (op, obj) => {
      if (op === "replaceStatus" && (obj?.status?.allocations ?? "").includes("bad")) throw new Error("request entity too large");
    };
    const { writer, clock } = writerOver(store);
    const ids = ["a", "b", "bad", "c", "d"];
    const settled = await Promise.allSettled(ids.map((id) => writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation(id, clock) })));
    const outcome = Object.fromEntries(ids.map((id, i) => [id, settled[i]?.status === "fulfilled" && (settled[i] as PromiseFulfilledResult<{ ok: boolean }>).value.ok]));
    expect(outcome).toEqual({ a: true, b: true, bad: false, c: true, d: true });
    expect((settled[2] as PromiseRejectedResult).reason).toEqual(new Error("request entity too large"));
    expect(heldIn(store, "p")).toHaveLength(4);
  });
});
