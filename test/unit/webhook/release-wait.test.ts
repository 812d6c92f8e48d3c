import { describe, expect, it } from "@jest/globals";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { releaseWait } from "../../../webhook/release-wait.js";
import { FakeClock } from "../../fakes/clock.js";
import { listCache } from "../../fakes/store.js";

const endpoint = (name: string, pool: string, uid: string, owner?: string): SpiderEndpoint => ({
  metadata: { name, namespace: "app", ...(owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: owner, name: "web", uid: "s1" }] } : {}) },
  status: { current: { uid, node: "n1", ips: [{ interface: "eth0", ipv4: "10.6.0.10/24", ipv4Pool: pool }] } },
});

const pod = (name: string, uid: string, extra: Partial<PodLike["metadata"]> = {}, phase?: string): PodLike => ({ metadata: { name, namespace: "app", uid, ...extra }, ...(phase ? { status: { phase } } : {}) });

/** When admission may wait at a full pool: an address of it held by a Pod that is gone, terminating or finished. */
describe("releaseWait", () => {
  const over = (eps: SpiderEndpoint[], pods: PodLike[], pools: SpiderIPPool[] = []) =>
    releaseWait({ endpoints: listCache(eps), pods: listCache(pods), pools: listCache(pools) }, new FakeClock());

  it("sees an address coming back from a Pod gone, replaced, terminating or finished", () => {
    expect(over([endpoint("a", "p", "u1")], []).coming(["p"])).toBe(true);
    expect(over([endpoint("a", "p", "u1")], [pod("a", "u2")]).coming(["p"])).toBe(true);
    expect(over([endpoint("a", "p", "u1")], [pod("a", "u1", { deletionTimestamp: new Date() })]).coming(["p"])).toBe(true);
    expect(over([endpoint("a", "p", "u1")], [pod("a", "u1", {}, "Succeeded")]).coming(["p"])).toBe(true);
  });

  it("sees nothing coming from a running Pod, another pool, or a StatefulSet's endpoint", () => {
    expect(over([endpoint("a", "p", "u1")], [pod("a", "u1", {}, "Running")]).coming(["p"])).toBe(false);
    expect(over([endpoint("a", "q", "u1")], []).coming(["p"])).toBe(false);
    expect(over([endpoint("a", "p", "u1", "StatefulSet")], []).coming(["p"])).toBe(false);
  });

  it("reads a free address from the pool's status counts", () => {
    const p = (allocated: number): SpiderIPPool => ({ metadata: { name: "p" }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.11"] }, status: { allocatedIPCount: allocated, totalIPCount: 2 } });
    expect(over([], [], [p(2)]).free(["p"])).toBe(false);
    expect(over([], [], [p(1)]).free(["p"])).toBe(true);
    expect(over([], [], []).free(["p"])).toBe(false);
  });
});
