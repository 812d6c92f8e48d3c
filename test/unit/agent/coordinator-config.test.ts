import { describe, expect, it } from "@jest/globals";
import { coordinatorConfigAnswer } from "../../../agent/coordinator-config.js";
import { coordinatorDefaults, coordinatorStatus, type SpiderCoordinator } from "../../../ipam/kinds/coordinator.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import type { Cache } from "../../../ipam/ports.js";

const cache = <T extends { metadata: { name?: string; namespace?: string } }>(items: T[]): Cache<T> => ({
  get: (name, namespace) => items.find((i) => i.metadata.name === name && (namespace === undefined || i.metadata.namespace === namespace)),
  list: () => items,
});

const coordinator: SpiderCoordinator = {
  metadata: { name: "default" },
  spec: { mode: "underlay", podCIDRType: "cluster", hijackCIDR: ["169.254.20.10/32"], tunePodRoutes: true },
  status: { phase: "Synced", serviceCIDR: ["10.96.0.0/16"], overlayPodCIDR: [] },
};
const pod: PodLike = { metadata: { name: "web-0", namespace: "ns", annotations: { "ipam.spidernet.io/default-route-nic": "net1" } } };

describe("the agent's answer to the coordinator", () => {
  const deps = (ready = true) => ({ coordinators: cache([coordinator]), pods: cache([pod]), ready: () => ready });

  it("is SpiderCoordinator default's spec and found CIDRs, and the Pod's default-route NIC", () => {
    expect(coordinatorConfigAnswer(deps(), { podNamespace: "ns", podName: "web-0" })).toEqual({
      defaults: { mode: "underlay", hijackCIDR: ["169.254.20.10/32"], tunePodRoutes: true, serviceCIDR: ["10.96.0.0/16"] },
      podDefaultRouteNIC: "net1",
    });
    expect(coordinatorConfigAnswer({ ...deps(), coordinators: cache<SpiderCoordinator>([]) }, { podNamespace: "ns", podName: "other" })).toEqual({ defaults: {} });
  });

  it("refuses a request without a Pod (6), and asks to be retried before its caches are synced (11)", () => {
    expect(() => coordinatorConfigAnswer(deps(), {})).toThrow(expect.objectContaining({ code: 6 }));
    expect(() => coordinatorConfigAnswer(deps(false), { podNamespace: "ns", podName: "web-0" })).toThrow(expect.objectContaining({ code: 11 }));
  });

  it("a SpiderCoordinator being deleted gives no defaults", () => {
    expect(coordinatorDefaults({ ...coordinator, metadata: { name: "default", deletionTimestamp: "2026-01-01T00:00:00Z" } })).toEqual({});
  });
});

describe("SpiderCoordinator status", () => {
  it("lists the Service CIDRs and, for podCIDRType cluster or auto, the Nodes' Pod CIDRs, sorted and once each", () => {
    const facts = { serviceCIDRs: ["fd96::/112", "10.96.0.0/16"], nodePodCIDRs: ["10.244.2.0/24", "10.244.1.0/24", "10.244.1.0/24"] };
    expect(coordinatorStatus({ podCIDRType: "cluster" }, facts)).toEqual({ phase: "Synced", serviceCIDR: ["10.96.0.0/16", "fd96::/112"], overlayPodCIDR: ["10.244.1.0/24", "10.244.2.0/24"] });
    expect(coordinatorStatus({}, facts).overlayPodCIDR).toHaveLength(2);
    expect(coordinatorStatus({ podCIDRType: "none" }, facts)).toMatchObject({ phase: "Synced", overlayPodCIDR: [] });
  });

  it("is NotReady, saying what to do, without the ServiceCIDR API or for a podCIDRType it does not read", () => {
    expect(coordinatorStatus({ podCIDRType: "none" }, { nodePodCIDRs: [] })).toMatchObject({ phase: "NotReady", reason: expect.stringContaining("hijackCIDR") });
    expect(coordinatorStatus({ podCIDRType: "cilium" }, { serviceCIDRs: [], nodePodCIDRs: ["10.244.1.0/24"] })).toMatchObject({ phase: "NotReady", overlayPodCIDR: [], reason: expect.stringContaining("podCIDRType cilium") });
  });
});
