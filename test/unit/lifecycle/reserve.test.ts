import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { podFacts, reserveAddresses, type PodFacts } from "../../../ipam/lifecycle/reserve.js";
import { listCache } from "../../fakes/store.js";
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

  describe("an application's automatic pool", () => {
    const subnetPod = { namespace: "app", labels: { app: "web" }, annotations: { "ipam.spidernet.io/subnet": '{"ipv4":["s"]}' } };
    function withAutoPool(spec: Partial<SpiderIPPool["spec"]>) {
      const store = new FakeStore<SpiderIPPool>();
      const auto = store.seed(pool("auto4-web-eth0-12345", spec));
      const { ctx } = contextOver(store);
      return { store, ctx: { ...ctx, subnets: listCache([{ metadata: { name: "s" }, spec: { subnet: "10.6.0.0/24" } }]), autoPool: () => Promise.resolve(auto) } };
    }

    it("is held to the filters like any pool: another namespace's Pod is refused", async () => {
      const { ctx } = withAutoPool({ namespaceName: ["shop"], podAffinity: { matchLabels: { app: "web" } } });
      await expect(reserveAddresses(subnetPod, "r1", ctx)).rejects.toMatchObject({ code: "POOL_NOT_ALLOWED", message: expect.stringContaining("does not serve namespace app") });
    });

    it("constrains the Pod's scheduling when the pool serves some nodes only", async () => {
      const { ctx } = withAutoPool({ namespaceName: ["app"], nodeName: ["n1"] });
      const r = await reserveAddresses(subnetPod, "r1", ctx);
      expect(r.constraints).toEqual([{ nodeName: ["n1"] }]);
    });
  });

  it("gives a DaemonSet Pod the pool of the node its affinity names, with no constraint added", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("rack-a", { nodeName: ["n1"] }));
    store.seed(pool("rack-b", { subnet: "10.7.0.0/24", ips: ["10.7.0.10-10.7.0.12"], nodeName: ["n2"] }));
    const { ctx } = contextOver(store);
    const dsPod = {
      metadata: { namespace: "app", annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["rack-a","rack-b"]}' } },
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["n2"] }] }] } } } },
    };
    const r = await reserveAddresses(podFacts(dsPod, "app"), "r1", ctx);
    expect(r.assigned.ips[0]?.ipv4Pool).toBe("rack-b");
    expect(r.constraints).toEqual([]);
  });
});
