import { describe, expect, it } from "@jest/globals";
import { webhookConfigurations } from "../../../webhook/registration.js";

describe("webhook registration", () => {
  const [mutating, validating] = webhookConfigurations({
    mutatingName: "m",
    validatingName: "v",
    endpoint: { service: { namespace: "kube-system", name: "spiderpool-controller", port: 443 } },
    failurePolicy: "Fail",
    podFailurePolicy: "Ignore",
    excludedNamespaces: ["kube-system", "spiderpool"],
  });

  it("reserves at Pod CREATE with no side effects on dry runs, never reinvoked, outside excluded namespaces", () => {
    const pod = mutating.webhooks?.find((w) => w.name === "pod.mutate.spiderpool.spidernet.io");
    expect(pod).toMatchObject({
      sideEffects: "NoneOnDryRun",
      reinvocationPolicy: "Never",
      failurePolicy: "Ignore",
      rules: [{ apiGroups: [""], resources: ["pods"], operations: ["CREATE"] }],
      namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "spiderpool"] }] },
      clientConfig: { service: { namespace: "kube-system", name: "spiderpool-controller", port: 443, path: "/webhooks/mutate-pod" } },
    });
  });

  it("guards assigned-ips on Pod UPDATE and judges every Spiderpool kind with failurePolicy Fail", () => {
    expect(validating.webhooks?.find((w) => w.name === "pod.validate.spiderpool.spidernet.io")?.rules?.[0]?.operations).toEqual(["UPDATE"]);
    // Issue 13: a Pod's annotations can be written through its status subresource too.
    expect(validating.webhooks?.find((w) => w.name === "pod.validate.spiderpool.spidernet.io")?.rules?.[0]?.resources).toEqual(["pods", "pods/status"]);
    const kinds = validating.webhooks?.filter((w) => w.name.startsWith("spider")) ?? [];
    expect(kinds.map((w) => w.rules?.[0]?.resources?.[0])).toEqual(["spiderippools", "spidersubnets", "spiderreservedips", "spidermultusconfigs"]);
    expect(kinds.every((w) => w.failurePolicy === "Fail" && w.sideEffects === "None")).toBe(true);
  });

  it("sends the apiserver only Pods that may have a Spiderpool NIC when eth0 is another plugin's", () => {
    const [m, v] = webhookConfigurations({
      mutatingName: "m",
      validatingName: "v",
      endpoint: { url: "https://127.0.0.1:1" },
      failurePolicy: "Fail",
      excludedNamespaces: [],
      primaryNetwork: "other",
    });
    const pod = m.webhooks?.find((w) => w.name === "pod.mutate.spiderpool.spidernet.io");
    const conditions = (pod?.matchConditions ?? []).map((c) => c.expression).join(" && ");
    expect(conditions).toContain("k8s.v1.cni.cncf.io/networks");
    expect(conditions).toContain("v1.multus-cni.io/default-network");
    expect(conditions).toContain("hostNetwork");
    const guard = v.webhooks?.find((w) => w.name === "pod.validate.spiderpool.spidernet.io");
    expect((guard?.matchConditions ?? []).map((c) => c.expression).join(" ")).toContain("ipam.spidernet.io/assigned-ips");
  });

  it("sizes automatic pools at the admission of applications and their scale, with no side effects on dry runs, outside excluded namespaces", () => {
    const app = validating.webhooks?.find((w) => w.name === "application.validate.spiderpool.spidernet.io");
    expect(app).toMatchObject({
      sideEffects: "NoneOnDryRun",
      failurePolicy: "Ignore",
      namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "spiderpool"] }] },
      clientConfig: { service: { path: "/webhooks/validate-application" } },
    });
    expect(app?.rules).toEqual([
      { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale", "daemonsets"], scope: "Namespaced" },
      { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"], scope: "Namespaced" },
    ]);
  });
});
