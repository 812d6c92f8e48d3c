import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { NetworkAttachmentDefinition } from "../../../ipam/kinds/network-attachment.js";
import { reserveAddresses, type PodFacts, type ReserveContext } from "../../../ipam/lifecycle/reserve.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reserveContext, writerOver } from "./fixtures.js";

/** A NetworkAttachmentDefinition whose config is one plugin with this ipam stanza. */
export const nad = (namespace: string, name: string, ipam: Record<string, unknown>): NetworkAttachmentDefinition => ({
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name, namespace },
  spec: { config: JSON.stringify({ cniVersion: "1.0.0", name, plugins: [{ type: "macvlan", master: "eth1", ipam }] }) },
});

const NADS = [
  nad("app", "macvlan-a", { type: "spiderpool" }),
  nad("app", "other-net", { type: "host-local", ranges: [[{ subnet: "192.168.9.0/24" }]] }),
  nad("app", "with-default", { type: "spiderpool", default_ipv4_ippool: ["p"] }),
];

/** Reservation over fake ports, with eth0 served by another plugin and the NADs above. */
function setUp(extra: Partial<ReserveContext> = {}) {
  const store = new FakeStore<SpiderIPPool>();
  store.seed(pool("dflt", { default: true }));
  store.seed(pool("p", { subnet: "10.7.0.0/24", ips: ["10.7.0.10-10.7.0.20"] }));
  const w = writerOver(store);
  const ctx = {
    ...reserveContext(store, w.writer, w.clock),
    primaryNetwork: "other",
    networks: (ref: { namespace: string; name: string }) => Promise.resolve(NADS.find((n) => n.metadata.namespace === ref.namespace && n.metadata.name === ref.name)),
    ...extra,
  } as ReserveContext;
  return { store, ctx, ...w };
}

const podWith = (annotations: Record<string, string>): PodFacts => ({ namespace: "app", labels: {}, annotations });

describe("which NICs are Spiderpool's", () => {
  it("reserves nothing for a plain Pod when eth0 is another plugin's", async () => {
    const { store, ctx } = setUp();
    const r = await reserveAddresses(podWith({}), "r1", ctx);
    expect(r.assigned.ips).toEqual([]);
    expect(heldIn(store, "dflt")).toEqual([]);
  });

  it("reserves for net1 only when macvlan-a uses spiderpool and other-net does not", async () => {
    const { store, ctx } = setUp();
    const r = await reserveAddresses(podWith({ "k8s.v1.cni.cncf.io/networks": "macvlan-a, other-net" }), "r1", ctx);
    expect(r.assigned.ips.map((n) => n.interface)).toEqual(["net1"]);
    expect(heldIn(store, "dflt")).toEqual(["10.6.0.10"]);
  });

  it("takes the pools of the NAD's default_ipv4_ippool, with no pool annotation", async () => {
    const { store, ctx } = setUp();
    const r = await reserveAddresses(podWith({ "k8s.v1.cni.cncf.io/networks": "with-default" }), "r1", ctx);
    expect(r.assigned.ips).toEqual([expect.objectContaining({ interface: "net1", ipv4Pool: "p", ipv4: "10.7.0.10/24" })]);
    expect(heldIn(store, "dflt")).toEqual([]);
  });
});

describe("limits on what one Pod may ask for", () => {
  it("refuses 300 NICs (eth0 and 299 secondaries), naming the limit, and takes nothing", async () => {
    const { store, ctx, batches } = setUp();
    const networks = Array.from({ length: 299 }, () => "macvlan-a").map((n, i) => `${n}@n${i}`).join(",");
    await expect(reserveAddresses(podWith({ "k8s.v1.cni.cncf.io/networks": networks }), "r1", ctx)).rejects.toThrow(/300 network interfaces.*at most 16/);
    expect(heldIn(store, "dflt")).toEqual([]);
    expect(batches).toEqual([]);
  });

  it("refuses an interface name of 16 bytes (Linux allows 15)", async () => {
    const { store, ctx } = setUp();
    await expect(reserveAddresses(podWith({ "k8s.v1.cni.cncf.io/networks": "macvlan-a@abcdefghijklmnop" }), "r1", ctx)).rejects.toMatchObject({
      code: "ANNOTATION_INVALID",
      message: expect.stringMatching(/abcdefghijklmnop.*16 bytes.*at most 15/),
    });
    expect(heldIn(store, "dflt")).toEqual([]);
  });

  it("refuses a 1 MiB annotation before reading it", async () => {
    const { store, ctx } = setUp({ primaryNetwork: "spiderpool" });
    const huge = JSON.stringify({ ipv4: ["dflt"], padding: "x".repeat(1 << 20) });
    await expect(reserveAddresses(podWith({ "ipam.spidernet.io/ippool": huge }), "r1", ctx)).rejects.toMatchObject({
      code: "POD_LIMIT_EXCEEDED",
      message: expect.stringMatching(/ipam.spidernet.io\/ippool.*bytes.*at most/),
    });
    expect(heldIn(store, "dflt")).toEqual([]);
  });
});
