import { describe, expect, it } from "@jest/globals";
import { IpamError } from "../../../../ipam/errors.js";
import { assertPoolAllowed } from "../../../../ipam/selection/filters.js";
import { selectCandidates } from "../../../../ipam/selection/select.js";
import type { SelectionInput } from "../../../../ipam/selection/types.js";
import { annotated, config, input, pool, pool6, subnet } from "./fixtures.js";

function names(sel: ReturnType<typeof selectCandidates>, nic = 0, family: "ipv4" | "ipv6" = "ipv4"): string[] {
  return sel[nic]?.[family]?.candidates.map((c) => c.name) ?? [];
}

function refusal(i: SelectionInput): IpamError {
  try {
    selectCandidates(i);
  } catch (err) {
    if (err instanceof IpamError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const pools = [pool("a"), pool("b"), pool("def", { default: true }), pool("ns-def"), pool("cni-def"), pool("cl-def")];

describe("rule order", () => {
  const full = {
    "ipam.spidernet.io/subnet": '{"ipv4":["s1"]}',
    "ipam.spidernet.io/ippools": '[{"interface":"eth0","ipv4":["b"]}]',
    "ipam.spidernet.io/ippool": '{"ipv4":["a"]}',
  };
  const ns = { labels: {}, annotations: { "ipam.spidernet.io/default-ipv4-ippool": '["ns-def"]' } };
  const nics = [{ interface: "eth0", cniDefaults: { ipv4: ["cni-def"] } }];
  const cfg = { ...config, clusterDefaultIPv4IPPool: ["cl-def"] };
  const base = { pools, subnets: [subnet("s1")], namespace: ns, nics, config: cfg };

  it.each([
    ["subnet annotation first", full, base, "subnet", ["s1"]],
    ["ippools over ippool", { ...full, "ipam.spidernet.io/subnet": undefined }, base, "ippools", ["b"]],
    ["ippool", { "ipam.spidernet.io/ippool": '{"ipv4":["a"]}' }, base, "ippool", ["a"]],
    ["namespace default", {}, base, "namespace-default", ["ns-def"]],
    ["CNI default", {}, { ...base, namespace: undefined }, "cni-default", ["cni-def"]],
    ["cluster default", {}, { ...base, namespace: undefined, nics: [{ interface: "eth0" }] }, "cluster-default", ["cl-def"]],
    ["default pools", {}, { ...base, namespace: undefined, nics: [{ interface: "eth0" }], config }, "default-pools", ["def"]],
    ["subnet ignored without SpiderSubnet", full, { ...base, config: { ...cfg, enableSpiderSubnet: false } }, "ippools", ["b"]],
  ])("%s", (_name, ann, over, rule, expected) => {
    const clean = Object.fromEntries(Object.entries(ann).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const sel = selectCandidates(annotated(clean, over));
    expect(sel[0]?.ipv4?.rule).toBe(rule);
    expect(names(sel)).toEqual(expected);
    expect(sel[0]?.ipv4?.kind).toBe(rule.startsWith("subnet") ? "subnet" : "pool");
  });

  it("refuses when no rule applies, saying what to set", () => {
    const err = refusal(input({ pools: [pool("a")] }));
    expect(err.code).toBe("NO_CANDIDATE_POOL");
    expect(err.message).toBe(
      "pod app/web-0 cannot get an address: no rule gives eth0 a pool: set annotation ipam.spidernet.io/ippool, a namespace or CNI default pool, a cluster default pool, or mark a pool default: true",
    );
  });
});

describe("filters", () => {
  it("keeps the user's order, expands globs and explains each filtered pool", () => {
    const ps = [
      pool("z-ok"),
      pool("a-ok"),
      pool("v4-1"),
      pool("v4-2"),
      pool("gone", {}, { deletionTimestamp: "2024-01-01T00:00:00Z" }),
      pool("off", { disable: true }),
      pool6("six"),
      pool("ns", { namespaceName: ["other"] }),
      pool("nsaff", { namespaceAffinity: { matchLabels: { team: "b" } } }),
      pool("podaff", { podAffinity: { matchLabels: { app: "db" } } }),
      pool("mult", { multusName: ["macvlan"] }),
      pool("broken", { subnet: "10.6.0.1/16" }),
    ];
    const ann = { "ipam.spidernet.io/ippool": '{"ipv4":["z-ok","gone","off","six","ns","nsaff","podaff","mult","broken","nope","v4-2","v4-*","a-ok"]}' };
    const sel = selectCandidates(annotated(ann, { pools: ps }));
    expect(names(sel)).toEqual(["z-ok", "v4-2", "v4-1", "a-ok"]);
    expect(sel[0]?.ipv4?.filtered.map((f) => [f.name, f.reason])).toEqual([
      ["gone", "terminating"],
      ["off", "disabled"],
      ["six", "wrong-family"],
      ["ns", "namespace"],
      ["nsaff", "namespace"],
      ["podaff", "pod"],
      ["mult", "multus"],
      ["broken", "invalid"],
      ["nope", "not-found"],
    ]);
  });

  it("node filters apply when the node is known; otherwise the constraint is returned", () => {
    const ps = [pool("r1", { nodeName: ["w1"] }), pool("zone-a", { nodeAffinity: { matchLabels: { zone: "a" } } }), pool("any")];
    const ann = { "ipam.spidernet.io/ippool": '{"ipv4":["r1","zone-a","any"]}' };
    const unknown = selectCandidates(annotated(ann, { pools: ps }));
    expect(unknown[0]?.ipv4?.candidates).toEqual([
      { name: "r1", node: { nodeName: ["w1"] } },
      { name: "zone-a", node: { nodeAffinity: { matchLabels: { zone: "a" } } } },
      { name: "any" },
    ]);
    const known = selectCandidates(annotated(ann, { pools: ps, node: { name: "w2", labels: { zone: "a" } } }));
    expect(names(known)).toEqual(["zone-a", "any"]);
    expect(known[0]?.ipv4?.filtered).toEqual([{ name: "r1", reason: "node", detail: "does not serve node w2 (nodeName [w1])" }]);
  });

  it("namespaceName wins over namespaceAffinity; the namespace's name label always matches", () => {
    const ps = [
      pool("byname", { namespaceName: ["app"], namespaceAffinity: { matchLabels: { team: "zzz" } } }),
      pool("bylabel", { namespaceAffinity: { matchLabels: { "kubernetes.io/metadata.name": "app" } } }),
    ];
    const sel = selectCandidates(annotated({ "ipam.spidernet.io/ippool": '{"ipv4":["byname","bylabel"]}' }, { pools: ps, namespace: undefined }));
    expect(names(sel)).toEqual(["byname", "bylabel"]);
  });

  it("multusName: a bare name means the install namespace; the NIC must come through that network", () => {
    const ps = [pool("m1", { multusName: ["macvlan"] }), pool("m2", { multusName: ["app/macvlan"] })];
    const ann = { "ipam.spidernet.io/ippools": '[{"interface":"eth0","ipv4":["m1","m2"]},{"interface":"net1","ipv4":["m1","m2"]}]' };
    const nics = [
      { interface: "eth0", network: { namespace: "kube-system", name: "macvlan" } },
      { interface: "net1", network: { namespace: "app", name: "macvlan" } },
    ];
    const sel = selectCandidates(annotated(ann, { pools: ps, nics }));
    expect(names(sel, 0)).toEqual(["m1"]);
    expect(names(sel, 1)).toEqual(["m2"]);
    expect(sel[1]?.ipv4?.filtered[0]?.detail).toBe("net1 is attached through app/macvlan, not multusName [macvlan]");
  });
});

describe("families, NICs and refusals", () => {
  const dual = { ...config, enableIPv6: true };

  it("dual stack: both families from the same rule; cleanGateway per NIC", () => {
    const ann = { "ipam.spidernet.io/ippools": '[{"interface":"eth0","ipv4":["a"],"ipv6":["a6"],"cleangateway":true}]' };
    const nics = [{ interface: "eth0" }, { interface: "net1", cniDefaults: { ipv4: ["b"], ipv6: ["b6"] }, cleanGateway: false }];
    const sel = selectCandidates(annotated(ann, { pools: [pool("a"), pool("b"), pool6("a6"), pool6("b6")], nics, config: dual }));
    expect(sel.map((n) => [n.interface, n.cleanGateway, names(sel, sel.indexOf(n)), names(sel, sel.indexOf(n), "ipv6")])).toEqual([
      ["eth0", true, ["a"], ["a6"]],
      ["net1", false, ["b"], ["b6"]],
    ]);
    expect(sel[1]?.ipv4?.rule).toBe("cni-default");
  });

  it("an enabled family the rule does not name is refused, with every failing NIC at once", () => {
    const ann = { "ipam.spidernet.io/ippool": '{"ipv4":["a"]}' };
    const err = refusal(annotated(ann, { pools: [pool("a", { disable: true })], config: dual }));
    expect(err.code).toBe("NO_CANDIDATE_POOL");
    expect(err.message).toBe(
      "pod app/web-0 cannot get an address: no IPv4 pool from annotation ipam.spidernet.io/ippool can serve eth0: a is disabled; " +
        "also, annotation ipam.spidernet.io/ippool names no IPv6 pool for eth0, but IPv6 is enabled",
    );
  });

  it("names that do not exist give POOL_NOT_FOUND / SUBNET_NOT_FOUND", () => {
    expect(refusal(annotated({ "ipam.spidernet.io/ippool": '{"ipv4":["x","y-*"]}' })).code).toBe("POOL_NOT_FOUND");
    const err = refusal(annotated({ "ipam.spidernet.io/subnet": '{"ipv4":["s9"]}' }, { subnets: [subnet("s1")] }));
    expect(err.code).toBe("SUBNET_NOT_FOUND");
    expect(err.message).toContain("no IPv4 subnet from annotation ipam.spidernet.io/subnet can serve eth0: s9 does not exist");
    expect(err.details).toMatchObject({ pod: "app/web-0", failures: [{ interface: "eth0", family: 4, rule: "subnet" }] });
  });

  it("a pod without a name yet is named as new; a bad annotation is ANNOTATION_INVALID", () => {
    const i = input({ pools: [pool("a")] });
    expect(refusal({ ...i, pod: { namespace: "app" } }).message).toMatch(/^pod app\/\(new pod\) cannot get an address/);
    expect(refusal(annotated({ "ipam.spidernet.io/ippool": "{" })).code).toBe("ANNOTATION_INVALID");
  });

  it("annotations naming an interface the pod lacks are refused", () => {
    const err = refusal(annotated({ "ipam.spidernet.io/ippools": '[{"interface":"net3","ipv4":["a"]}]' }, { pools: [pool("a")] }));
    expect(err.message).toContain("names interface net3, but the pod's interfaces are eth0");
  });

  it("a NIC the annotation does not name falls through to the next rule", () => {
    const ann = { "ipam.spidernet.io/ippool": '{"ipv4":["a"]}' };
    const nics = [{ interface: "eth0" }, { interface: "net1", cniDefaults: { ipv4: ["b"] } }];
    const sel = selectCandidates(annotated(ann, { pools: [pool("a"), pool("b")], nics }));
    expect([sel[0]?.ipv4?.rule, sel[1]?.ipv4?.rule]).toEqual(["ippool", "cni-default"]);
  });
});

describe("one pool checked directly", () => {
  it("assertPoolAllowed names the filter that refuses the pool, else returns its node constraint", () => {
    const ctx = { family: 4 as const, podNamespace: "app", podLabels: { app: "web" }, interface: "eth0", installNamespace: "kube-system" };
    let error: unknown;
    try {
      assertPoolAllowed(pool("p", { podAffinity: { matchLabels: { app: "db" } } }), ctx);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IpamError);
    expect((error as IpamError).code).toBe("POOL_NOT_ALLOWED");
    expect((error as IpamError).message).toBe(
      "pool p may not serve eth0 of a pod in namespace app: it does not serve this pod's labels (podAffinity app=db)",
    );
    expect((error as IpamError).details).toMatchObject({ pool: "p", reason: "pod" });
    expect(assertPoolAllowed(pool("r", { nodeName: ["w1"] }), ctx)).toEqual({ nodeName: ["w1"] });
    expect(assertPoolAllowed(pool("r", { nodeName: ["w1"] }), { ...ctx, node: { name: "w1" } })).toBeUndefined();
  });

  it("the subnet rule filters terminating subnets and those of the other family", () => {
    const subnets = [subnet("old", "10.6.0.0/16", { deletionTimestamp: "2024-01-01T00:00:00Z" }), subnet("s6", "fd00::/64"), subnet("ok")];
    const sel = selectCandidates(annotated({ "ipam.spidernet.io/subnet": '{"ipv4":["old","s6","ok"]}' }, { subnets }));
    expect(names(sel)).toEqual(["ok"]);
    expect(sel[0]?.ipv4?.filtered.map((f) => `${f.name} ${f.detail}`)).toEqual(["old is being deleted", "s6 is IPv6, not IPv4"]);
  });
});
