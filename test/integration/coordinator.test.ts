import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { COORDINATOR_PLURAL, type CoordinatorSpec, type SpiderCoordinator } from "../../ipam/kinds/coordinator.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { kubectl, refusal, testKubeConfig } from "../harness/kube.js";

/**
 * SpiderCoordinator on a real apiserver: the schema refuses bad values by itself, and the
 * controller's leader writes the status from the cluster (the apiserver's ServiceCIDR, the
 * Nodes' podCIDRs). Objects get names of their own: SpiderCoordinator is cluster-scoped and
 * `default` may be in use by other files of the run.
 */
describe("SpiderCoordinator", () => {
  const id = randomBytes(3).toString("hex");
  let kc: KubeConfig;
  let tc: TestController;
  let api: CustomResources<SpiderCoordinator>;
  const node = `coord-it-${id}`;
  const made: string[] = [];

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "coordit");
    api = new CustomResources<SpiderCoordinator>(kc, COORDINATOR_PLURAL);
  });

  afterAll(async () => {
    for (const name of made) await api.delete(name, undefined, {}).catch(() => undefined);
    await kc.makeApiClient(CoreV1Api).deleteNode({ name: node }).catch(() => undefined);
    await tc?.stop();
  });

  const create = async (name: string, spec: CoordinatorSpec): Promise<SpiderCoordinator> => {
    made.push(name);
    return api.create({ apiVersion: API_VERSION, kind: "SpiderCoordinator", metadata: { name }, spec });
  };

  it("defaults its spec and gets the cluster's Service CIDR and the Nodes' Pod CIDRs in its status", async () => {
    await kc.makeApiClient(CoreV1Api).createNode({ body: { metadata: { name: node }, spec: { podCIDR: "10.244.77.0/24", podCIDRs: ["10.244.77.0/24", "fd44:77::/64"] } } });
    const created = await create(`it-${id}-cluster`, { podCIDRType: "cluster" });
    expect(created.spec).toMatchObject({ mode: "auto", hostRuleTable: 500, hostRPFilter: 0, podRPFilter: 0 });
    const synced = await waitFor("the status", async () => {
      const c = await api.get(created.metadata.name ?? "");
      return c?.status?.overlayPodCIDR?.includes("fd44:77::/64") ? c : undefined;
    }, 30_000);
    // local-cluster starts kube-apiserver with --service-cluster-ip-range=10.96.0.0/16.
    expect(synced.status).toMatchObject({ phase: "Synced", serviceCIDR: ["10.96.0.0/16"] });
    expect(synced.status?.overlayPodCIDR).toEqual(expect.arrayContaining(["10.244.77.0/24", "fd44:77::/64"]));
    const table = await kubectl(["get", "scc", created.metadata.name ?? ""]);
    expect(table).toMatch(/NAME\s+MODE\s+PODCIDRTYPE\s+PHASE\s+AGE/);
    expect(table).toMatch(/auto\s+cluster\s+Synced/);
  });

  it("says why it is NotReady for a podCIDRType it does not read", async () => {
    const created = await create(`it-${id}-calico`, { podCIDRType: "calico" });
    const c = await waitFor("the status", async () => {
      const got = await api.get(created.metadata.name ?? "");
      return got?.status?.phase ? got : undefined;
    }, 30_000);
    expect(c.status).toMatchObject({ phase: "NotReady", overlayPodCIDR: [], serviceCIDR: ["10.96.0.0/16"] });
    expect(c.status?.reason).toContain("podCIDRType calico");
  });

  it.each([
    ["a hijackCIDR that is not a CIDR", { hijackCIDR: ["10.0.0.0/33"] }, "each entry must be a CIDR"],
    ["an unknown mode", { mode: "bridge" }, "spec.mode"],
    ["a vethLinkAddress that is not an address", { vethLinkAddress: "169.254.100" }, "must be an IP address"],
    ["a multicast MAC prefix", { podMACPrefix: "01:1b" }, "spec.podMACPrefix"],
    ["an rp_filter of 3", { podRPFilter: 3 }, "spec.podRPFilter"],
  ])("refuses %s", async (_what, spec, message) => {
    const status = await refusal(create(`it-${id}-bad`, spec as CoordinatorSpec));
    expect(status.code).toBe(422);
    expect(status.message).toContain(message);
  });
});
