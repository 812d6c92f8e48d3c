import { describe, expect, it } from "@jest/globals";
import type { NodeSelectorTerm } from "../../../../ipam/kinds/pod.js";
import { templateFitsNode, type NodeLike } from "../../../../ipam/placement/node-fit.js";
import { nodeNamedBy } from "../../../../ipam/placement/node-of-pod.js";

const required = (...terms: NodeSelectorTerm[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const byName = (...values: string[]): NodeSelectorTerm => ({ matchFields: [{ key: "metadata.name", operator: "In", values }] });

describe("the node a Pod is bound to before scheduling", () => {
  it.each([
    ["spec.nodeName", { nodeName: "n1" }, "n1"],
    ["a DaemonSet's single-node term", { affinity: required(byName("n2")) }, "n2"],
    ["a DaemonSet's term with the Pod's own expressions", { affinity: required({ ...byName("n2"), matchExpressions: [{ key: "zone", operator: "In" as const, values: ["a"] }] }) }, "n2"],
    ["every term naming the same node", { affinity: required(byName("n3"), { ...byName("n3"), matchExpressions: [{ key: "x", operator: "Exists" as const }] }) }, "n3"],
    ["terms naming different nodes", { affinity: required(byName("n1"), byName("n2")) }, undefined],
    ["a term naming two nodes", { affinity: required(byName("n1", "n2")) }, undefined],
    ["a term without a name", { affinity: required(byName("n1"), { matchExpressions: [{ key: "zone", operator: "In" as const, values: ["a"] }] }) }, undefined],
    ["NotIn", { affinity: required({ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n1"] }] }) }, undefined],
    ["no affinity", {}, undefined],
  ])("%s", (_what, spec, node) => {
    expect(nodeNamedBy(spec)).toBe(node);
  });
});

describe("whether a DaemonSet's Pod would run on a node", () => {
  const node = (name: string, labels: Record<string, string> = {}, taints: { key: string; value?: string; effect: string }[] = []): NodeLike => ({ metadata: { name, labels }, spec: { taints } });

  it.each([
    ["no constraint", {}, node("n1"), true],
    ["nodeSelector held", { nodeSelector: { disk: "ssd" } }, node("n1", { disk: "ssd" }), true],
    ["nodeSelector not held", { nodeSelector: { disk: "ssd" } }, node("n1", { disk: "hdd" }), false],
    ["affinity In", { affinity: required({ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }) }, node("n1", { zone: "b" }), true],
    ["affinity NotIn", { affinity: required({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }) }, node("n1", { zone: "a" }), false],
    ["affinity Gt", { affinity: required({ matchExpressions: [{ key: "gpus", operator: "Gt", values: ["1"] }] }) }, node("n1", { gpus: "2" }), true],
    ["affinity Lt on a non-number", { affinity: required({ matchExpressions: [{ key: "gpus", operator: "Lt", values: ["4"] }] }) }, node("n1", { gpus: "x" }), false],
    ["terms ORed", { affinity: required({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, byName("n9")) }, node("n9"), true],
    ["an empty term matches nothing", { affinity: required({}) }, node("n1"), false],
    ["a NoSchedule taint not tolerated", {}, node("n1", {}, [{ key: "dedicated", value: "db", effect: "NoSchedule" }]), false],
    ["a NoSchedule taint tolerated by Equal", { tolerations: [{ key: "dedicated", operator: "Equal" as const, value: "db", effect: "NoSchedule" }] }, node("n1", {}, [{ key: "dedicated", value: "db", effect: "NoSchedule" }]), true],
    ["any taint tolerated by a bare Exists", { tolerations: [{ operator: "Exists" as const }] }, node("n1", {}, [{ key: "a", effect: "NoExecute" }]), true],
    ["a PreferNoSchedule taint does not keep it off", {}, node("n1", {}, [{ key: "a", effect: "PreferNoSchedule" }]), true],
  ] as const)("%s", (_what, spec, n, fits) => {
    expect(templateFitsNode({ spec: spec as never }, n)).toBe(fits);
  });
});
