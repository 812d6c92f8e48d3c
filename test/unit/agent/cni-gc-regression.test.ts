import { describe, expect, it } from "@jest/globals";
import { CniService } from "../../../agent/cni-service.js";
import { formatAssignedIPs, type AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "../lifecycle/fixtures.js";
import { recorderOver } from "./fixtures.js";

/**
 * Regression (issue 10): the agent's CNI GC judged a Pod gone from the endpoint it listed,
 * then acted on the endpoint it re-read after a lost compare-and-swap, which by then was
 * the endpoint of a Pod re-created under the same name on another node.
 */
describe("CNI GC never releases the endpoint of a Pod re-created meanwhile", () => {
  async function setup() {
    const pools = new FakeStore<SpiderIPPool>();
    pools.seed(pool("p"));
    const endpoints = new FakeStore<SpiderEndpoint>({ statusSubresource: false });
    const { writer, clock } = writerOver(pools);
    const take = async (id: string): Promise<AssignedIPs> => {
      const got = await writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation(id, clock) });
      if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
      await writer.submit("p", { kind: "bind", reservation: id });
      const address = `10.6.0.${Number(got.allocation.address & 0xffn)}/24`;
      return { reservation: id, ips: [{ interface: "eth0", ipv4: address, ipv4Pool: "p", ipv4Token: got.allocation.token }] };
    };
    const oldAssigned = await take("r-old");
    const oldPod: PodLike = { metadata: { name: "web-0", namespace: "app", uid: "u-old", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(oldAssigned) } }, spec: { nodeName: "n1" } };
    const oldEp = endpointFor(oldPod, oldAssigned);
    endpoints.seed({ ...oldEp, status: { ...oldEp.status, current: { ...(oldEp.status?.current as NonNullable<NonNullable<SpiderEndpoint["status"]>["current"]>), attachments: [{ containerID: "c1", interface: "eth0", network: "macvlan" }] } } });
    const newAssigned = await take("r-new");
    const newPod: PodLike = { metadata: { name: "web-0", namespace: "app", uid: "u-new", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(newAssigned) } }, spec: { nodeName: "n2" } };
    const pods = new Map<string, PodLike>([["app/web-0", newPod]]);
    const service = new CniService({
      nodeName: "n1",
      pod: (ns, name) => Promise.resolve(pods.get(`${ns}/${name}`)),
      endpoints,
      endpointCache: endpoints.cache(),
      attachments: recorderOver(endpoints).recorder,
      listEndpoints: () => Promise.resolve(endpoints.all()),
      allocator: writer,
      endpointWaitMs: 1000,
      clock: new FakeClock(),
      ready: () => true,
      log: new RecordingLog(),
    });
    return { pools, endpoints, service, newPod, newAssigned };
  }

  it("keeps the re-created Pod's endpoint and address when the endpoint changes between the list and the write", async () => {
    const t = await setup();
    // The controller re-binds the name to the new Pod after the agent listed the old endpoint.
    let swapped = false;
    t.endpoints.beforeWrite = (op) => {
      if (swapped || op !== "replace") return;
      swapped = true;
      const current = t.endpoints.peek("web-0", "app") as SpiderEndpoint;
      const fresh = endpointFor(t.newPod, t.newAssigned);
      t.endpoints.seed({ ...current, status: fresh.status });
    };
    await t.service.gc({ network: "macvlan", validAttachments: [] });
    // The old Pod's address was released when it was judged gone; the new Pod's stays held.
    expect(heldIn(t.pools, "p")).toContain("10.6.0.11");
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.uid).toBe("u-new");
  });

  it("deletes an endpoint only with uid and resourceVersion preconditions", async () => {
    const t = await setup();
    const deletes: string[] = [];
    const del = t.endpoints.delete.bind(t.endpoints);
    t.endpoints.delete = (name, ns, pre) => {
      deletes.push(JSON.stringify(Object.keys(pre).sort()));
      return del(name, ns, pre);
    };
    await t.service.gc({ network: "macvlan", validAttachments: [] });
    // The old Pod is gone: its address goes, and the endpoint delete names what was judged.
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.11"]);
    expect(deletes).toEqual([JSON.stringify(["resourceVersion", "uid"])]);
  });
});
