/**
 * fast-check arbitraries for what reaches the programs from outside: AdmissionReview bodies
 * (Pods with every ipam.spidernet.io annotation and Multus' networks, pools, subnets,
 * reserved IPs, multus configs, applications). Values are a mix of well-formed, nearly
 * well-formed and arbitrary JSON, so the rules past the first syntax check are reached too.
 */
import fc from "fast-check";

// Globs match only this suite's pool: the control plane is shared with other test files.
const POOL_NAMES = ["fuzz-pool", "fuzz-absent", "fuzz-p*", "fuzzadm-*", "", "Fuzz_Pool", "a".repeat(300)];
const IFACES = ["eth0", "net1", "net2", "", "a/b", "averyveryverylongname", "eth0"];
const CIDRS = ["10.197.0.0/20", "10.92.0.0/24", "10.92.0.0/33", "fd00:91::/120", "fd00:91::/129", "0.0.0.0/0", "10.92.0.1", "300.1.1.0/24", "", "::/0"];
const IPS = ["10.197.0.5", "10.92.0.10-10.92.0.20", "10.92.0.20-10.92.0.10", "fd00:91::5", "fd00:91::10-fd00:91::1", "10.197.0.5/24", "x", "", "10.92.0.1-fd00::1"];

export const poolName = fc.constantFrom(...POOL_NAMES);
export const iface = fc.constantFrom(...IFACES);
const cidr = fc.constantFrom(...CIDRS);
const ipText = fc.constantFrom(...IPS);
/** Any JSON value, and a few shapes that trip naive code (deep nesting, big numbers, null). */
export const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, [], {}, "", 1e308, -1, 0.5, "\u0000"));

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const jsonText = <T>(a: fc.Arbitrary<T>) => a.map((v) => JSON.stringify(v));

const poolsByFamily = fc.record({ ipv4: fc.array(poolName, { maxLength: 3 }), ipv6: fc.array(poolName, { maxLength: 2 }) }, { requiredKeys: [] });
const nicPools = fc.record({ interface: iface, ipv4: fc.array(poolName, { maxLength: 2 }), ipv6: fc.array(poolName, { maxLength: 2 }), cleangateway: fc.boolean() }, { requiredKeys: [] });
const subnetAnno = fc.record({ interface: iface, ipv4: fc.array(cidr, { maxLength: 2 }), ipv6: fc.array(cidr, { maxLength: 2 }) }, { requiredKeys: [] });
const route = fc.record({ dst: cidr, gw: ipText }, { requiredKeys: [] });
const multusNetworks = fc.oneof(
  fc.array(fc.constantFrom("macvlan", "fuzz/nad@net1", "other/absent", "nad@eth0", "", "a,b"), { maxLength: 3 }).map((xs) => xs.join(",")),
  jsonText(fc.array(fc.record({ name: fc.constantFrom("nad", "absent", ""), namespace: fc.constantFrom("fuzz", "", "x"), interface: iface, ips: fc.array(ipText, { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 3 })),
);

/** Each annotation the Pod webhook reads, with values of its own shape or anything. */
const POD_ANNOTATIONS: Record<string, fc.Arbitrary<string>> = {
  "ipam.spidernet.io/ippool": jsonText(poolsByFamily),
  "ipam.spidernet.io/ippools": jsonText(fc.array(nicPools, { maxLength: 3 })),
  "ipam.spidernet.io/subnet": jsonText(subnetAnno),
  "ipam.spidernet.io/subnets": jsonText(fc.array(subnetAnno, { maxLength: 3 })),
  "ipam.spidernet.io/ippool-ip-number": fc.constantFrom("1", "+1", "0", "-1", "x", "99999", "+0"),
  "ipam.spidernet.io/ippool-reclaim": fc.constantFrom("true", "false", "yes", ""),
  "ipam.spidernet.io/routes": jsonText(fc.array(route, { maxLength: 3 })),
  "ipam.spidernet.io/ips": jsonText(fc.array(fc.record({ interface: iface, ipv4: ipText, ipv6: ipText }, { requiredKeys: [] }), { maxLength: 2 })),
  "ipam.spidernet.io/assigned-ips": fc.oneof(fc.string(), jsonText(anyJson)),
  "ipam.spidernet.io/default-ipv4-ippool": jsonText(fc.array(poolName)),
  "k8s.v1.cni.cncf.io/networks": multusNetworks,
  "v1.multus-cni.io/default-network": fc.constantFrom("fuzz/nad", "absent", "", "a/b/c"),
};

const annotationValue = (key: string) => fc.oneof({ weight: 4, arbitrary: POD_ANNOTATIONS[key] ?? fc.string() }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: jsonText(anyJson) });

export const podAnnotations = fc
  .subarray(Object.keys(POD_ANNOTATIONS), { maxLength: 4 })
  .chain((keys) => (keys.length === 0 ? fc.constant({}) : fc.record(Object.fromEntries(keys.map((k) => [k, annotationValue(k)])) as Record<string, fc.Arbitrary<string>>)));

/** A Pod object, sometimes malformed in its envelope (no metadata, a string, no spec). */
export const podObject = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    apiVersion: fc.constant("v1"),
    kind: fc.constant("Pod"),
    metadata: fc.record({ generateName: maybe(fc.constant("fz-")), name: maybe(fc.constantFrom("fz-0", "web-1", "")), annotations: maybe(fc.oneof({ weight: 6, arbitrary: podAnnotations }, { weight: 1, arbitrary: anyJson })), labels: maybe(fc.dictionary(fc.constantFrom("app", "x"), fc.string({ maxLength: 5 }))), ownerReferences: maybe(anyJson) }, { requiredKeys: [] }),
    spec: maybe(fc.record({ nodeName: maybe(fc.constantFrom("node-a", "")), containers: fc.constant([{ name: "c", image: "example.invalid/c:1" }]), hostNetwork: maybe(fc.boolean()) }, { requiredKeys: [] })),
  }, { requiredKeys: ["apiVersion", "kind"] }) },
  { weight: 1, arbitrary: anyJson },
);

export const operation = fc.constantFrom("CREATE", "CREATE", "CREATE", "UPDATE", "DELETE", "CONNECT", "PATCH");

/** An AdmissionReview around `object` (and an old object for UPDATE), with a fresh uid. */
export function review(resource: { group: string; version: string; resource: string; kind: string }, object: fc.Arbitrary<unknown>, namespace: fc.Arbitrary<string | undefined>) {
  return fc.record({ uid: fc.uuid(), op: operation, object, oldObject: maybe(object), namespace, dryRun: fc.boolean(), username: fc.constantFrom("system:serviceaccount:kube-system:replicaset-controller", "alice", "") }).map((r) => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: r.uid,
      kind: { group: resource.group, version: resource.version, kind: resource.kind },
      resource: { group: resource.group, version: resource.version, resource: resource.resource },
      ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
      operation: r.op,
      userInfo: { username: r.username },
      object: r.object,
      ...(r.op === "UPDATE" && r.oldObject !== undefined ? { oldObject: r.oldObject } : {}),
      dryRun: r.dryRun,
    },
  }));
}

/**
 * Envelopes that are not quite AdmissionReviews (the server's own parsing). The third kind
 * is mostly well formed around one or two broken fields, so that it reaches the handlers.
 */
export const brokenEnvelope = fc.oneof(
  anyJson,
  fc.record({ apiVersion: fc.constantFrom("admission.k8s.io/v1", "v1"), kind: fc.constantFrom("AdmissionReview", "Pod"), request: anyJson }, { requiredKeys: [] }),
  fc.record({
    apiVersion: fc.constant("admission.k8s.io/v1"),
    kind: fc.constant("AdmissionReview"),
    request: fc.record(
      {
        uid: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: anyJson }),
        operation: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("CREATE", "UPDATE", "DELETE", "CONNECT") }, { weight: 1, arbitrary: anyJson }),
        object: fc.oneof({ weight: 2, arbitrary: fc.constant({ metadata: { name: "fuzz" } }) }, { weight: 1, arbitrary: anyJson }),
        oldObject: anyJson,
        kind: anyJson,
        resource: fc.oneof(fc.constantFrom({ group: "", version: "v1", resource: "pods" }, { group: "apps", version: "v1", resource: "deployments" }), anyJson),
        subResource: fc.oneof(fc.constantFrom("scale", "status"), anyJson),
        namespace: anyJson,
        name: anyJson,
        dryRun: anyJson,
        userInfo: fc.oneof({ weight: 4, arbitrary: fc.constant({ username: "fuzz" }) }, { weight: 1, arbitrary: anyJson }),
      },
      { requiredKeys: ["uid", "operation", "userInfo"] },
    ),
  }),
);

const selector = fc.oneof(fc.record({ matchLabels: fc.dictionary(fc.constantFrom("app", "zone"), fc.string({ maxLength: 5 })) }, { requiredKeys: [] }), anyJson);

/** SpiderIPPool / SpiderSubnet specs: the fields the rules read, with good and bad values. */
export const poolSpec = fc.record(
  {
    ipVersion: fc.oneof(fc.constantFrom(4, 6, 5), anyJson),
    subnet: fc.oneof({ weight: 4, arbitrary: cidr }, { weight: 1, arbitrary: anyJson }),
    ips: fc.oneof({ weight: 4, arbitrary: fc.array(ipText, { maxLength: 3 }) }, { weight: 1, arbitrary: anyJson }),
    excludeIPs: fc.array(ipText, { maxLength: 2 }),
    gateway: fc.oneof(ipText, anyJson),
    routes: fc.oneof(fc.array(route, { maxLength: 2 }), anyJson),
    podAffinity: selector,
    namespaceAffinity: selector,
    namespaceName: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
    nodeAffinity: selector,
    nodeName: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
    multusName: fc.array(fc.constantFrom("fuzz/nad", "nad", ""), { maxLength: 2 }),
    default: fc.oneof(fc.boolean(), anyJson),
    disable: fc.boolean(),
    vlan: fc.oneof(fc.integer({ min: -2, max: 5000 }), anyJson),
  },
  { requiredKeys: [] },
);

export const reservedIPSpec = fc.record({ ipVersion: fc.oneof(fc.constantFrom(4, 6), anyJson), ips: fc.oneof(fc.array(ipText, { maxLength: 3 }), anyJson) }, { requiredKeys: [] });

const vlanCni = fc.record({ master: fc.oneof(fc.array(fc.constantFrom("eth0", "eth1", "", "a b"), { maxLength: 2 }), anyJson), vlanID: fc.oneof(fc.integer({ min: -1, max: 5000 }), anyJson), ippools: fc.oneof(poolsByFamily, anyJson), bond: anyJson }, { requiredKeys: [] });
export const multusConfigSpec = fc.record(
  {
    cniType: fc.constantFrom("macvlan", "ipvlan", "sriov", "ovs", "ib-sriov", "custom", "bogus", ""),
    macvlan: vlanCni,
    ipvlan: vlanCni,
    sriov: fc.record({ resourceName: fc.constantFrom("r", ""), vlanID: fc.integer({ min: -1, max: 5000 }), ippools: poolsByFamily }, { requiredKeys: [] }),
    ovs: fc.record({ bridge: fc.constantFrom("br0", ""), vlan: fc.integer({ min: -1, max: 5000 }), trunk: anyJson }, { requiredKeys: [] }),
    coordinator: fc.record({ mode: fc.constantFrom("auto", "underlay", "overlay", "bogus"), hijackCIDR: fc.array(cidr, { maxLength: 2 }), podMACPrefix: fc.constantFrom("0a:1b", "zz", ""), hostRuleTable: fc.integer({ min: -1, max: 100000 }) }, { requiredKeys: [] }),
    customCNIConfig: fc.oneof(fc.string({ maxLength: 20 }), jsonText(anyJson)),
    enableCoordinator: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** A custom resource of `kind`, named, with `spec`, sometimes malformed around it. */
export function resourceObject(kind: string, spec: fc.Arbitrary<unknown>, labels: Record<string, string>) {
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ name: fc.constantFrom("fz-a", "fz-b", "", "FZ", "fz-" + "x".repeat(260)), spec: fc.oneof({ weight: 6, arbitrary: spec }, { weight: 1, arbitrary: anyJson }), annotations: maybe(fc.dictionary(fc.constantFrom("ipam.spidernet.io/ippool-ip-number", "spiderpool.spidernet.io/x"), fc.string({ maxLength: 6 }))) }).map((o) => ({ apiVersion: "spiderpool.spidernet.io/v2beta1", kind, metadata: { name: o.name, labels, ...(o.annotations ? { annotations: o.annotations } : {}) }, spec: o.spec })) },
    { weight: 1, arbitrary: anyJson },
  );
}

/** Applications: Deployments and friends with pool annotations in their Pod template. */
export const applicationObject = fc.record({
  kind: fc.constantFrom("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Scale"),
  replicas: fc.oneof(fc.integer({ min: -1, max: 100 }), anyJson),
  annotations: podAnnotations,
  name: fc.constantFrom("app", "", "x".repeat(300)),
}).map((a) => ({
  apiVersion: a.kind === "Job" || a.kind === "CronJob" ? "batch/v1" : a.kind === "Scale" ? "autoscaling/v1" : "apps/v1",
  kind: a.kind,
  metadata: { name: a.name, uid: "0b8e6f7a-0000-4000-8000-000000000001" },
  spec: { replicas: a.replicas, selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" }, annotations: a.annotations }, spec: { containers: [{ name: "c", image: "i" }] } } },
}));
