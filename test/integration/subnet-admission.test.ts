import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { IPPOOL_PLURAL, type IPPoolSpec, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { RESERVEDIP_PLURAL, type SpiderReservedIP } from "../../ipam/kinds/reservedip.js";
import { SUBNET_PLURAL, type SpiderSubnet, type SubnetSpec } from "../../ipam/kinds/subnet.js";
import { CustomResources } from "../../k8s/resources.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { kubectl, refusal, testKubeConfig } from "../harness/kube.js";

/** SpiderSubnet and SpiderReservedIP admission, and a subnet adopting the pools on its CIDR. */
describe("SpiderSubnet and SpiderReservedIP admission", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let subnets: CustomResources<SpiderSubnet>;
  let pools: CustomResources<SpiderIPPool>;
  let reserved: CustomResources<SpiderReservedIP>;
  const stamp = Date.now() % 100000;
  const meta = (name: string) => ({ name: `${name}-${stamp}`, labels: tc.labels });
  const subnet = (name: string, spec: Partial<SubnetSpec>): SpiderSubnet => ({ apiVersion: API_VERSION, kind: "SpiderSubnet", metadata: meta(name), spec: spec as SubnetSpec });
  const pool = (name: string, spec: Partial<IPPoolSpec>): SpiderIPPool => ({ apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: meta(name), spec: spec as IPPoolSpec });

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "subnetadm");
    subnets = new CustomResources(kc, SUBNET_PLURAL);
    pools = new CustomResources(kc, IPPOOL_PLURAL);
    reserved = new CustomResources(kc, RESERVEDIP_PLURAL);
  });
  afterAll(() => tc.stop());

  it("adopts a pool on its CIDR: owner reference, inherited gateway and routes, status listing it", async () => {
    const s = await subnets.create(
      subnet("s-adopt", { subnet: "10.62.0.0/16", ips: ["10.62.0.10-10.62.0.250"], gateway: "10.62.0.1", routes: [{ dst: "172.30.0.0/16", gw: "10.62.0.1" }] }),
    );
    expect(s.spec.ipVersion).toBe(4);
    const p = await pools.create(pool("p-adopted", { subnet: "10.62.0.0/16", ips: ["10.62.0.10-10.62.0.19"] }));
    expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "SpiderSubnet", name: s.metadata.name, uid: s.metadata.uid, controller: true })]);
    expect(p.spec.gateway).toBe("10.62.0.1");
    expect(p.spec.routes).toEqual([{ dst: "172.30.0.0/16", gw: "10.62.0.1" }]);

    const counted = await waitFor("subnet status", async () => {
      const got = await subnets.get(s.metadata.name ?? "");
      return got?.status?.allocatedIPCount === 10 ? got : undefined;
    });
    expect(counted.status?.totalIPCount).toBe(241);
    expect(counted.status?.controlledIPPools).toEqual({ [p.metadata.name ?? ""]: { ips: ["10.62.0.10-10.62.0.19"] } });

    const table = await kubectl(["get", "ss", s.metadata.name ?? ""]);
    expect(table).toMatch(new RegExp(`${s.metadata.name}\\s+4\\s+10\\.62\\.0\\.0/16\\s+10\\s+241`));
  });

  it("refuses a pool holding addresses its subnet does not have", async () => {
    const status = await refusal(pools.create(pool("p-outside", { subnet: "10.62.0.0/16", ips: ["10.62.1.1"] })));
    expect(status.message).toMatch(/spec.ips 10.62.1.1 are not among SpiderSubnet s-adopt-\d+'s ips/);
  });

  it("refuses a subnet overlapping another", async () => {
    const status = await refusal(subnets.create(subnet("s-overlap", { subnet: "10.62.128.0/17" })));
    expect(status.message).toMatch(/spec.subnet 10.62.128.0\/17 overlaps SpiderSubnet s-adopt-\d+ \(10.62.0.0\/16\); subnets must not overlap/);
  });

  it("refuses shrinking a subnet below the addresses its pools hold", async () => {
    const name = `s-adopt-${stamp}`;
    const current = (await subnets.get(name)) as SpiderSubnet;
    const status = await refusal(subnets.replace({ ...current, spec: { ...current.spec, ips: ["10.62.0.15-10.62.0.250"] } }));
    expect(status.message).toMatch(/spec.ips must keep 10.62.0.10-10.62.0.14, which pool p-adopted-\d+ holds/);
  });

  it("refuses a subnet created around a pool holding addresses outside it", async () => {
    await pools.create(pool("p-early", { subnet: "10.63.0.0/24", ips: ["10.63.0.200"] }));
    const status = await refusal(subnets.create(subnet("s-late", { subnet: "10.63.0.0/24", ips: ["10.63.0.1-10.63.0.100"] })));
    expect(status.message).toMatch(/spec.ips must keep 10.63.0.200, which pool p-early-\d+ holds/);
  });

  it("adopts pools that existed before their subnet", async () => {
    const early = await pools.create(pool("p-before", { subnet: "10.64.0.0/24", ips: ["10.64.0.10"] }));
    const s = await subnets.create(subnet("s-after", { subnet: "10.64.0.0/24", ips: ["10.64.0.1-10.64.0.100"], gateway: "10.64.0.1" }));
    const adopted = await waitFor("adoption", async () => {
      const got = await pools.get(early.metadata.name ?? "");
      return got?.metadata.ownerReferences?.some((r) => r.uid === s.metadata.uid) ? got : undefined;
    });
    expect(adopted.spec.gateway).toBe("10.64.0.1");
  });

  it("defaults a SpiderReservedIP's ipVersion and canonical ips, and refuses mixed families", async () => {
    const r = await reserved.create({ apiVersion: API_VERSION, kind: "SpiderReservedIP", metadata: meta("r6"), spec: { ips: ["fd00:62::9", "fd00:62::5-fd00:62::8"] } });
    expect(r.spec).toEqual({ ipVersion: 6, ips: ["fd00:62::5-fd00:62::9"] });
    const status = await refusal(reserved.create({ apiVersion: API_VERSION, kind: "SpiderReservedIP", metadata: meta("rmix"), spec: { ips: ["10.62.0.5", "fd00::5"] } }));
    expect(status.message).toContain("spec.ips[1]:");
  });
});
