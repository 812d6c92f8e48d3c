import { beforeAll, describe, expect, it } from "@jest/globals";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { kubectl, refusal, testKubeConfig } from "../harness/kube.js";

const plural = "spiderippools";

describe("CRDs on a real kube-apiserver", () => {
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  beforeAll(async () => {
    kc = testKubeConfig();
    api = kc.makeApiClient(CustomObjectsApi);
    await applyCrds(kc);
  });

  it("serves a SpiderIPPool and kubectl shows its printer columns", async () => {
    const name = `crd-columns-${Date.now()}`;
    await api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural,
      body: {
        apiVersion: API_VERSION,
        kind: "SpiderIPPool",
        metadata: { name },
        spec: { ipVersion: 4, subnet: "10.250.0.0/24", ips: ["10.250.0.10-10.250.0.19"], default: true },
      },
    });
    // Status lives in the status subresource: a write there is the only way to set it.
    await api.patchClusterCustomObjectStatus(
      { group: GROUP, version: VERSION, plural, name, body: { status: { allocatedIPCount: 3, totalIPCount: 10 } } },
      mergePatch(),
    );

    const table = columns(await kubectl(["get", "sp", name]));
    expect(Object.keys(table)).toEqual(["NAME", "VERSION", "SUBNET", "ALLOCATED-IP-COUNT", "TOTAL-IP-COUNT", "DEFAULT", "DISABLE", "AGE"]);
    expect(table).toMatchObject({
      NAME: name,
      VERSION: "4",
      SUBNET: "10.250.0.0/24",
      "ALLOCATED-IP-COUNT": "3",
      "TOTAL-IP-COUNT": "10",
      DEFAULT: "true",
      DISABLE: "",
    });
  });

  it("has short names for every kind", async () => {
    for (const short of ["sp", "ss", "se", "sr"]) {
      await expect(kubectl(["get", short, "-A"])).resolves.toBeDefined();
    }
  });

  it("refuses a pool whose ipVersion is not 4 or 6 (schema enforced by the apiserver)", async () => {
    const body = {
      apiVersion: API_VERSION,
      kind: "SpiderIPPool",
      metadata: { name: "bad-version" },
      spec: { ipVersion: 5, subnet: "10.251.0.0/24" },
    };
    const status = await refusal(api.createClusterCustomObject({ group: GROUP, version: VERSION, plural, body }));
    expect(status.code).toBe(422);
    expect(status.details?.causes).toContainEqual(
      expect.objectContaining({ field: "spec.ipVersion", reason: "FieldValueNotSupported", message: 'Unsupported value: 5: supported values: "4", "6"' }),
    );
  });

  it("refuses a pool without a subnet and a change of subnet", async () => {
    const noSubnet = { apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name: "no-subnet" }, spec: { ipVersion: 4 } };
    const missing = await refusal(api.createClusterCustomObject({ group: GROUP, version: VERSION, plural, body: noSubnet }));
    expect(missing.details?.causes).toContainEqual(expect.objectContaining({ field: "spec.subnet", reason: "FieldValueRequired" }));

    const name = `immutable-${Date.now()}`;
    await api.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural,
      body: { apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name }, spec: { ipVersion: 4, subnet: "10.252.0.0/24" } },
    });
    const changed = await refusal(
      api.patchClusterCustomObject({ group: GROUP, version: VERSION, plural, name, body: { spec: { subnet: "10.253.0.0/24" } } }, mergePatch()),
    );
    expect(changed.details?.causes).toContainEqual(expect.objectContaining({ field: "spec.subnet", message: expect.stringContaining("spec.subnet is immutable") }));
  });
});

/** kubectl's table (header + one row) as column -> cell, cut at the header's column starts. */
function columns(out: string): Record<string, string> {
  const [header = "", row = ""] = out.trimEnd().split("\n");
  const starts = [...header.matchAll(/\S+/g)].map((m) => [m[0], m.index] as const);
  return Object.fromEntries(starts.map(([name, at], i) => [name, row.slice(at, starts[i + 1]?.[1] ?? row.length).trim()]));
}

// client-node 1.x sends JSON patches unless told otherwise through a header option.
const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
