import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { reserveAddresses, type PodFacts } from "../../../ipam/lifecycle/reserve.js";
import type { Allocator } from "../../../ipam/ports.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reserveContext, writerOver } from "./fixtures.js";

const twoNics = (eth0: string, net1: string): PodFacts => ({
  namespace: "app",
  labels: {},
  annotations: {
    "k8s.v1.cni.cncf.io/networks": "macvlan-b",
    "ipam.spidernet.io/ippools": JSON.stringify([{ interface: "eth0", ipv4: [eth0] }, { interface: "net1", ipv4: [net1] }]),
  },
});

function contextOver(store: FakeStore<SpiderIPPool>, allocator?: Allocator) {
  const w = writerOver(store);
  return { ...w, ctx: reserveContext(store, allocator ?? w.writer, w.clock) };
}

describe("reserveAddresses over fake ports", () => {
  it("gives back the first NIC's address when a later NIC cannot be served", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("a"));
    store.seed(pool("full", { subnet: "10.7.0.0/24", ips: ["10.7.0.10"] }));
    const { ctx } = contextOver(store);
    // Fill "full" first, with someone else's reservation.
    await reserveAddresses({ namespace: "app", labels: {}, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["full"]}' } }, "rother", ctx);
    expect(heldIn(store, "full")).toEqual(["10.7.0.10"]);

    const refused = reserveAddresses(twoNics("a", "full"), "rmine", ctx);
    await expect(refused).rejects.toMatchObject({ code: "POOL_EXHAUSTED" });
    await expect(refused).rejects.toThrow(/no IPv4 address for net1: pool full has 0 of 1 addresses free/);
    // eth0's address from pool a was taken, then released again: a refused Pod holds nothing.
    expect(heldIn(store, "a")).toEqual([]);
    expect(heldIn(store, "full")).toEqual(["10.7.0.10"]);
  });

  it("gives back what it took when a later NIC's allocator fails outright", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("a"));
    store.seed(pool("b", { subnet: "10.7.0.0/24", ips: ["10.7.0.10-10.7.0.11"] }));
    const { writer } = writerOver(store);
    const failing: Allocator = {
      submit: (p, req) => (p === "b" && req.kind === "allocate" ? Promise.reject(new Error("apiserver unreachable")) : writer.submit(p, req)),
    };
    const { ctx } = contextOver(store, failing);
    await expect(reserveAddresses(twoNics("a", "b"), "rmine", ctx)).rejects.toThrow("apiserver unreachable");
    expect(heldIn(store, "a")).toEqual([]);
  });

  it("skips a full candidate for the next one in the same rule", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("small", { ips: ["10.6.0.10"] }));
    store.seed(pool("big", { subnet: "10.7.0.0/24", ips: ["10.7.0.10-10.7.0.20"] }));
    const { ctx } = contextOver(store);
    const pick = { namespace: "app", labels: {}, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["small","big"]}' } };
    const first = await reserveAddresses(pick, "r1", ctx);
    const second = await reserveAddresses(pick, "r2", ctx);
    expect(first.assigned.ips[0]).toMatchObject({ ipv4: "10.6.0.10/24", ipv4Pool: "small" });
    expect(second.assigned.ips[0]).toMatchObject({ ipv4: "10.7.0.10/24", ipv4Pool: "big" });
  });

  it("looks for a pinned address past the candidates that do not hold it", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("a"));
    store.seed(pool("b", { ips: ["10.6.0.50-10.6.0.60"] }));
    const { ctx } = contextOver(store);
    const pinned = { namespace: "app", labels: {}, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["a","b"]}', "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.6.0.55"}]' } };
    const r = await reserveAddresses(pinned, "r1", ctx);
    expect(r.assigned.ips[0]).toMatchObject({ ipv4: "10.6.0.55/24", ipv4Pool: "b" });
    await expect(reserveAddresses(pinned, "r2", ctx)).rejects.toMatchObject({ code: "IP_IN_USE" });
  });
});
