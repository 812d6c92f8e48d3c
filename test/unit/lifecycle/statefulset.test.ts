import { describe, expect, it } from "@jest/globals";
import type { Workload } from "../../../ipam/kinds/application.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { releaseRecorded } from "../../../ipam/lifecycle/endpoints.js";
import { reserveAddresses, type PodFacts } from "../../../ipam/lifecycle/reserve.js";
import { keepsAddresses, stickyAddresses, stickyFirst } from "../../../ipam/lifecycle/statefulset.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, ip, pool, reserveContext, writerOver } from "./fixtures.js";

const sts = { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "sts-1" };

const endpoint = (name: string, owner = sts, deleting = false): SpiderEndpoint => ({
  metadata: { name, namespace: "ns", ownerReferences: [{ ...owner, blockOwnerDeletion: false }], ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  status: {
    current: { uid: "pod-uid", ips: [{ interface: "eth0", ipv4: "10.6.0.11/24", ipv4Pool: "p", ipv4Token: 2, ipv6: "fd00::11/64", ipv6Pool: "p6", ipv6Token: 7 }], reservation: "old" },
    ownerControllerType: "StatefulSet",
    ownerControllerName: "web",
  },
});

const podOf = (name: string, owner = sts, annotations = { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' }): PodFacts => ({
  namespace: "ns",
  name,
  labels: {},
  annotations,
  ownerReferences: [{ ...owner, controller: true }],
});

describe("StatefulSet addresses", () => {
  it("reads what a re-created Pod held, only from its own StatefulSet's endpoint", () => {
    expect(stickyAddresses(podOf("web-1"), endpoint("web-1"))).toEqual([
      { interface: "eth0", family: 4, pool: "p", address: ip("10.6.0.11"), token: 2 },
      { interface: "eth0", family: 6, pool: "p6", address: 0xfd000000000000000000000000000011n, token: 7 },
    ]);
    expect(stickyAddresses(podOf("web-1", { ...sts, uid: "sts-2" }), endpoint("web-1"))).toEqual([]);
    expect(stickyAddresses({ ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "x", uid: "sts-1", controller: true }] }, endpoint("web-1"))).toEqual([]);
    expect(stickyAddresses(podOf("web-1"), undefined)).toEqual([]);
  });

  it("tries the earlier pool first when it is still a candidate, and not at all when it is not", () => {
    const sticky = stickyAddresses(podOf("web-1"), endpoint("web-1"));
    expect(stickyFirst([{ name: "q" }, { name: "p" }], sticky, "eth0", 4)).toEqual({ candidates: [{ name: "p" }, { name: "q" }], keep: sticky[0] });
    expect(stickyFirst([{ name: "q" }], sticky, "eth0", 4)).toEqual({ candidates: [{ name: "q" }] });
    expect(stickyFirst([{ name: "p" }], sticky, "net1", 4)).toEqual({ candidates: [{ name: "p" }] });
  });

  it.each([
    ["its ordinal is wanted", "web-1", { replicas: 2 }, true, true],
    ["a scale-down removed its ordinal", "web-2", { replicas: 2 }, true, false],
    ["ordinals start at 5", "web-1", { replicas: 2, ordinals: { start: 5 } }, true, false],
    ["the feature is off", "web-1", { replicas: 2 }, false, false],
  ])("keeps a gone Pod's addresses while %s", (_what, name, spec, enabled, keeps) => {
    const set: Workload = { metadata: { name: "web", namespace: "ns", uid: "sts-1" }, spec };
    expect(keepsAddresses(endpoint(name), set, enabled)).toBe(keeps);
  });

  it("does not keep them for a StatefulSet that is gone, replaced or going, nor for an endpoint being deleted", () => {
    const set: Workload = { metadata: { name: "web", namespace: "ns", uid: "sts-1" }, spec: { replicas: 3 } };
    expect(keepsAddresses(endpoint("web-1"), undefined, true)).toBe(false);
    expect(keepsAddresses(endpoint("web-1"), { ...set, metadata: { ...set.metadata, uid: "sts-2" } }, true)).toBe(false);
    expect(keepsAddresses(endpoint("web-1"), { ...set, metadata: { ...set.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }, true)).toBe(false);
    expect(keepsAddresses(endpoint("web-1", sts, true), set, true)).toBe(false);
  });

  it("re-reserves web-1's address when it is created again, and the old record's release frees nothing", async () => {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p", { ips: ["10.6.0.10-10.6.0.19"] }));
    const w = writerOver(pools);
    const ctx = reserveContext(pools, w.writer, w.clock);
    await reserveAddresses({ ...podOf("web-0") }, "r0", ctx);
    const first = await reserveAddresses(podOf("web-1"), "r1", ctx);
    const nic = first.assigned.ips[0];
    expect(nic).toMatchObject({ ipv4: "10.6.0.11/24", ipv4Pool: "p" });
    await w.writer.submit("p", { kind: "bind", reservation: "r1" });
    // web-1 is deleted and created again: its endpoint (owned by the StatefulSet) records the old token.
    const ep: SpiderEndpoint = { metadata: { name: "web-1", namespace: "ns", ownerReferences: [{ ...sts }] }, status: { current: { uid: "old-pod", ips: first.assigned.ips, reservation: "r1" } } };
    const again = await reserveAddresses(podOf("web-1"), "r2", { ...ctx, sticky: (p) => stickyAddresses(p, ep) });
    expect(again.assigned.ips[0]).toMatchObject({ ipv4: "10.6.0.11/24", ipv4Pool: "p" });
    expect(again.assigned.ips[0]?.ipv4Token).not.toBe(nic?.ipv4Token);
    expect(await releaseRecorded(w.writer, ep)).toBe(0);
    expect(heldIn(pools, "p")).toEqual(["10.6.0.10", "10.6.0.11"]);
  });
});
