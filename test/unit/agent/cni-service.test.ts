import { describe, expect, it } from "@jest/globals";
import { CNI_ERROR_CODES } from "../../../cni/protocol.js";
import { formatAssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { heldIn } from "../lifecycle/fixtures.js";
import { add, failure, NODE, setup } from "./fixtures.js";

describe("CniService over fake ports", () => {
  it("answers ADD from the reservation the controller recorded, and remembers the attachment", async () => {
    const t = await setup();
    t.record();
    const answer = await t.service.add(add());
    expect(answer.ips).toEqual([{ interface: "eth0", address: "10.6.0.10/24", family: 4, gateway: "10.6.0.1" }]);
    expect(answer.routes).toEqual([{ dst: "0.0.0.0/0", gw: "10.6.0.1" }]);
    await t.recorder.idle();
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.attachments).toEqual([{ containerID: "c1", interface: "eth0", network: "macvlan" }]);
    // A repeated ADD changes nothing.
    const writes = t.endpoints.writes.length;
    await t.service.add(add());
    await t.recorder.idle();
    expect(t.endpoints.writes.length).toBe(writes);
  });

  it("says try again later when the controller has recorded nothing in time", async () => {
    const t = await setup();
    const err = await failure(t.service.add(add()));
    expect(err.code).toBe(CNI_ERROR_CODES.TRY_AGAIN_LATER);
    expect(t.clock.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2_000);
  });

  it("refuses at once when this very Pod's record disagrees with its annotation", async () => {
    const t = await setup();
    const ep = t.record();
    const current = ep.status?.current;
    if (!current) throw new Error("no status");
    await t.endpoints.replace({ ...ep, status: { ...ep.status, current: { ...current, ips: [{ ...current.ips[0], interface: "eth0", ipv4: "10.6.0.99/24" }] } } });
    const err = await failure(t.service.add(add()));
    expect(err.code).toBe(CNI_ERROR_CODES.RECORD_MISMATCH);
    expect(t.clock.slept).toEqual([]);
  });

  it("refuses a Pod of another node and a Pod the runtime knows under another uid", async () => {
    const t = await setup();
    t.record();
    t.pod.spec = { nodeName: "n2" };
    expect((await failure(t.service.add(add()))).code).toBe(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG);
    t.pod.spec = { nodeName: NODE };
    expect((await failure(t.service.add(add({ podUID: "old" })))).code).toBe(CNI_ERROR_CODES.UNKNOWN_CONTAINER);
  });

  it("without late allocation, refuses a NIC that has no reservation", async () => {
    const t = await setup();
    t.record();
    expect((await failure(t.service.add(add({ ifName: "net1" })))).code).toBe(CNI_ERROR_CODES.NO_RESERVATION);
  });

  it("asks for late allocation for a NIC without a reservation, then answers from the Pod as re-read", async () => {
    const asked: string[] = [];
    const net1 = { interface: "net1", ipv4: "10.6.0.11/24", ipv4Pool: "p", ipv4Token: 2 };
    let grant = true;
    const t = await setup({
      lateAllocate: (pod, ifName) => {
        asked.push(`${pod.metadata.name ?? ""}/${ifName}`);
        if (!grant) return Promise.resolve();
        // What the controller does: the Pod's annotation and its endpoint get the new NIC.
        const assigned = { ...t.assigned, ips: [...t.assigned.ips, net1] };
        t.pod.metadata.annotations = { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) };
        const ep = t.endpoints.peek("web-0", "app") as SpiderEndpoint;
        return t.endpoints.replace({ ...ep, status: endpointFor(t.pod, assigned).status }).then(() => undefined);
      },
    });
    t.record();
    const answer = await t.service.add(add({ ifName: "net1" }));
    expect(answer.ips).toEqual([{ interface: "net1", address: "10.6.0.11/24", family: 4 }]);
    // When the controller reserved nothing after all, the agent says so instead of inventing an address.
    grant = false;
    expect((await failure(t.service.add(add({ ifName: "net2" })))).code).toBe(CNI_ERROR_CODES.NO_RESERVATION);
    expect(asked).toEqual(["web-0/net1", "web-0/net2"]);
  });

  it("DEL forgets the attachment and keeps the address with the Pod; CHECK then fails", async () => {
    const t = await setup();
    t.record();
    await t.service.add(add());
    await t.service.del(add());
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.attachments).toEqual([]);
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    expect((await failure(t.service.check(add()))).code).toBe(CNI_ERROR_CODES.UNKNOWN_CONTAINER);
    await t.service.del(add({ podName: "never-existed" }));
  });

  it("GC forgets a live Pod's stale attachment and releases a vanished Pod's addresses", async () => {
    const t = await setup();
    t.record();
    await t.service.add(add());
    await t.recorder.idle();
    expect(await t.service.gc({ network: "macvlan", validAttachments: [{ containerID: "c1", ifname: "eth0" }] })).toEqual({ released: 0 });
    // The runtime no longer lists the sandbox, but the Pod lives: only the attachment goes.
    expect(await t.service.gc({ network: "macvlan", validAttachments: [] })).toEqual({ released: 1 });
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    // The Pod vanished while the controller did not notice: the agent releases exactly its record.
    await t.service.add(add({ containerID: "c2" }));
    await t.recorder.idle();
    t.pods.clear();
    expect(await t.service.gc({ network: "macvlan", validAttachments: [] })).toEqual({ released: 1 });
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
  });

  it("STATUS says the plugin is not available until the caches are synced", async () => {
    let ready = false;
    const t = await setup({ ready: () => ready });
    expect(() => t.service.status()).toThrow(expect.objectContaining({ code: CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE }));
    ready = true;
    expect(() => t.service.status()).not.toThrow();
  });
});
