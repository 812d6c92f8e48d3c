import { describe, expect, it } from "@jest/globals";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import { parseIPList } from "../../../ipam/address/iplist.js";
import { kindOfResource, ordinalOf, podSelectorOf, sizingInputs, wantedPods, wantsOrdinal, type Workload } from "../../../ipam/kinds/application.js";
import { AUTO_POOL_APPLICATION, autoPoolLabels, autoPoolNames, autoPoolOwner, autoPoolRequest, autoPoolSizeWithin, formatApplication, highest } from "../../../ipam/kinds/auto-pool.js";

const w = (spec: Workload["spec"], status?: Workload["status"]): Workload => ({ metadata: { name: "a", namespace: "ns", uid: "u" }, spec, ...(status ? { status } : {}) });

describe("applications", () => {
  it.each([
    ["Deployment", "Deployment", w({ replicas: 7 }), 0, 7],
    ["Deployment without replicas (the apiserver defaults 1)", "Deployment", w({}), 0, 1],
    ["StatefulSet scaled to 0", "StatefulSet", w({ replicas: 0 }), 0, 0],
    ["Job: completions", "Job", w({ completions: 5, parallelism: 2 }), 0, 5],
    ["Job: parallelism when completions are unset", "Job", w({ parallelism: 3 }), 0, 3],
    ["Job: at least 1", "Job", w({ completions: 0 }), 0, 1],
    ["CronJob: its Job template", "CronJob", w({ jobTemplate: { spec: { completions: 4 } } }), 0, 4],
    ["DaemonSet: the nodes it fits", "DaemonSet", w({}), 3, 3],
    ["DaemonSet: its status when it knows of more", "DaemonSet", w({}, { desiredNumberScheduled: 5 }), 3, 5],
    ["a third party's spec.replicas", "Widget", w({ replicas: 2 }), 0, 2],
    ["a third party without replicas", "Widget", w({}), 0, 1],
  ])("wants: %s", (_what, kind, obj, nodes, n) => {
    expect(wantedPods(kind, obj, nodes)).toBe(n);
  });

  it("selects an application's Pods by its selector, a CronJob's by its Job template's labels, else not at all", () => {
    expect(podSelectorOf("Deployment", w({ selector: { matchLabels: { app: "a" } } }))).toEqual({ matchLabels: { app: "a" } });
    expect(podSelectorOf("CronJob", w({ jobTemplate: { spec: { template: { metadata: { labels: { app: "c" } } } } } }))).toEqual({ matchLabels: { app: "c" } });
    expect(podSelectorOf("CronJob", w({ jobTemplate: { spec: {} } }))).toBeUndefined();
    expect(podSelectorOf("Deployment", w({ selector: {} }))).toBeUndefined();
  });

  it("reads StatefulSet ordinals and the ones it wants, from spec.ordinals.start", () => {
    expect(ordinalOf("web-12", "web")).toBe(12);
    expect(ordinalOf("web-01", "web")).toBeUndefined();
    expect(ordinalOf("webx-1", "web")).toBeUndefined();
    expect(ordinalOf("web-a-1", "web")).toBeUndefined();
    const sts = w({ replicas: 2, ordinals: { start: 5 } });
    expect([4, 5, 6, 7].map((o) => wantsOrdinal(sts, o))).toEqual([false, true, true, false]);
    expect([0, 1, 2].map((o) => wantsOrdinal(w({ replicas: 2 }), o))).toEqual([true, true, false]);
  });

  it("tells the kind of a resource and what an update must change to matter", () => {
    expect(kindOfResource("statefulsets")).toBe("StatefulSet");
    expect(kindOfResource("pods")).toBeUndefined();
    const base = w({ replicas: 2, template: { metadata: { annotations: { "ipam.spidernet.io/subnet": "x", "other/thing": "1" } } } });
    const relabelled = { ...base, metadata: { ...base.metadata, labels: { new: "label" } } };
    expect(sizingInputs(relabelled)).toEqual(sizingInputs(base));
    expect(sizingInputs(w({ ...base.spec, replicas: 3 }))).not.toEqual(sizingInputs(base));
    expect(sizingInputs(w({ ...base.spec, template: { metadata: { annotations: { "ipam.spidernet.io/subnet": "y" } } } }))).not.toEqual(sizingInputs(base));
  });
});

describe("automatic pool names, labels and sizes", () => {
  const app = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "Web", uid: "0b1c2d3e-aaaa-bbbb-cccc-123456789abc" };

  it("names a pool as Spiderpool does, with longer uid tails for when a name is taken", () => {
    expect(autoPoolNames(4, app, "eth0")).toEqual(["auto4-web-eth0-12345", "auto4-web-eth0-123456789abc", "auto4-web-eth0-0b1c2d3e-aaaa-bbbb-cccc-123456789abc"]);
    const long = autoPoolNames(6, { name: "x".repeat(300), uid: app.uid }, "net1");
    expect(long.every((n) => n.length <= 253 && n.startsWith("auto6-xxx") && n.includes("-net1-"))).toBe(true);
  });

  it("reads the owner back from the labels and Spiderpool's application annotation", () => {
    const labels = autoPoolLabels(app, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: false });
    expect(autoPoolOwner({ metadata: { labels } })).toEqual({ ...app, interface: "eth0", family: 4, subnet: "s1", reclaim: false });
    const longName = { ...app, name: "n".repeat(80) };
    const cut = autoPoolLabels(longName, { interface: "eth0", subnet: "s1", cidr: parseCIDR("fd00::/64"), reclaim: true });
    expect(autoPoolOwner({ metadata: { labels: cut } })?.name).toHaveLength(63);
    expect(autoPoolOwner({ metadata: { labels: cut, annotations: { [AUTO_POOL_APPLICATION]: formatApplication(longName) } } })).toMatchObject({ name: longName.name, family: 6, reclaim: true });
    expect(autoPoolOwner({ metadata: { labels: { app: "x" } } })).toBeUndefined();
  });

  it("sizes a pool N or replicas + N, and refuses beyond the limit naming it", () => {
    const limit = { count: 100, setting: "controller setting --auto-pool-max-ips" };
    expect(autoPoolSizeWithin(autoPoolRequest({ "ipam.spidernet.io/ippool-ip-number": "+2" }, 1), 10, limit, app)).toBe(12);
    expect(autoPoolSizeWithin(autoPoolRequest({}, 3), 10, limit, app)).toBe(13);
    expect(autoPoolSizeWithin(autoPoolRequest({ "ipam.spidernet.io/ippool-ip-number": "100" }, 1), 500, limit, app)).toBe(100);
    expect(() => autoPoolSizeWithin(autoPoolRequest({ "ipam.spidernet.io/ippool-ip-number": "999999999" }, 1), 1, limit, app)).toThrow(
      /annotation ipam.spidernet.io\/ippool-ip-number "999999999" of Deployment shop\/Web asks for 999999999 addresses; an automatic pool holds at most 100 addresses \(controller setting --auto-pool-max-ips\)/,
    );
    expect(() => autoPoolSizeWithin(autoPoolRequest({ "ipam.spidernet.io/ippool-ip-number": "+2" }, 1), 99, limit, app)).toThrow(/wants 99 Pods plus 2 spare addresses .*101 in all/);
    expect(() => autoPoolRequest({ "ipam.spidernet.io/ippool-reclaim": "maybe" }, 1)).toThrow(/ippool-reclaim/);
  });

  it("gives back the highest addresses first", () => {
    const set = parseIPList(["10.6.0.1-10.6.0.3", "10.6.0.7-10.6.0.8"], 4);
    expect(highest(set, 3).toStrings()).toEqual(["10.6.0.3", "10.6.0.7-10.6.0.8"]);
    expect(highest(set, 9).toStrings()).toEqual(set.toStrings());
    expect(highest(set, 0).isEmpty).toBe(true);
  });
});
