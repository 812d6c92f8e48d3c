import { describe, expect, it } from "@jest/globals";
import { formatAssignedIPs, parseAssignedIPs, type AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { allocateLate, type LateAllocationDeps, type LateRequest } from "../../../ipam/lifecycle/late-allocation.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reserveContext, writerOver } from "./fixtures.js";

/**
 * Regression (issue 10): two late allocations for one Pod share the reservation id derived
 * from the Pod's uid. The one whose write into the Pod loses (409) gave the shared
 * reservation back, freeing the address the other had just written into the Pod.
 */
describe("concurrent late allocations for one Pod", () => {
  it("leave the address written into the Pod held", async () => {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p"));
    const pods = new FakeStore<PodLike>();
    pods.seed({ metadata: { name: "web-0", namespace: "app", uid: "u1", annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' } }, spec: { nodeName: "n1" } });
    const { writer, clock, log } = writerOver(pools);
    const { allocator: _a, ...reserve } = reserveContext(pools, writer, clock);
    // Both calls read the Pod before either writes it.
    let reads = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((r) => (release = r));
    const deps: LateAllocationDeps = {
      readPod: async (ns, name) => {
        const pod = await pods.get(name, ns);
        if (++reads === 2) release();
        if (reads <= 2) await bothRead;
        return pod;
      },
      // A merge patch guarded by the resourceVersion the Pod was read at (ConflictError when it moved).
      writeAssigned: async (pod, assigned) => {
        await pods.replace({ ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) } } });
      },
      reserve,
      allocator: writer,
      clock,
      log,
    };
    const req: LateRequest = { namespace: "app", name: "web-0", uid: "u1", node: "n1", interface: "eth0" };
    const outcomes = await Promise.allSettled([allocateLate(req, deps), allocateLate(req, deps)]);
    const text = (await pods.get("web-0", "app"))?.metadata.annotations?.["ipam.spidernet.io/assigned-ips"];
    expect(text).toBeDefined();
    const written: AssignedIPs = parseAssignedIPs(text as string);
    expect(written.ips.map((n) => n.ipv4)).toEqual(["10.6.0.10/24"]);
    // Whatever the loser answered, the address in the Pod is still held by the pool.
    expect(heldIn(pools, "p")).toEqual(["10.6.0.10"]);
    expect(outcomes.some((o) => o.status === "fulfilled" && o.value.kind === "assigned")).toBe(true);
  });
});
