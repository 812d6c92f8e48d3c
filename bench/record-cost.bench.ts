// What one SpiderEndpoint create costs the apiserver, beside a ConfigMap carrying the same
// record and beside variants of the endpoint's CRD (the same schema under another group; no
// selectable field and no printer columns; the status left unstructured), on a control plane
// of its own (etcd and kube-apiserver, nothing watching): apiserver and etcd CPU per create,
// read from /proc, each kind in turn, three rounds. It says whether the per-Pod record that
// the design's floor (scenario floor-record) pays for could be made cheaper by its CRD.
//   npx tsx bench/record-cost.bench.ts [creates=1000]
import { CoreV1Api, CustomObjectsApi, type KubernetesObject } from "@kubernetes/client-node";
import type { AssignedIPs } from "../ipam/annotations/assigned.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../ipam/kinds/endpoint.js";
import { GROUP, VERSION } from "../ipam/kinds/meta.js";
import type { PodLike } from "../ipam/kinds/pod.js";
import { endpointFor } from "../ipam/lifecycle/endpoints.js";
import { CONTROL_PLANE, startCluster, stopCluster } from "../local-cluster/cluster.js";
import { ensureBinariesOrExit } from "../local-cluster/ensure-binaries.js";
import { apply, applyCrds, establishCrds, localCrdManifests } from "../local-cluster/kube.js";
import { adminKubeConfig } from "../local-cluster/kubeconfig.js";
import { processCpu } from "../local-cluster/scenario-costs.js";

const creates = Number(process.argv[2] ?? 1000);
const CONCURRENCY = 16;
const ROUNDS = 3;
const NAMESPACE = "record-cost";

/** A single-NIC IPv4 Pod's record, as the binder writes it for a Deployment's Pod. */
function record(i: number, tag: string): SpiderEndpoint {
  const pod: PodLike = {
    metadata: { name: `${tag}-${i}`, namespace: NAMESPACE, uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, labels: { "pod-template-hash": "6d4cf56db6" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-6d4cf56db6", uid: "rs-1", controller: true }] },
    spec: { nodeName: "kwok-node-3" },
  };
  const assigned: AssignedIPs = { reservation: "r1a2b3c4d", ips: [{ interface: "eth0", ipv4: "10.180.3.211/16", ipv4Pool: "exact-v4", ipv4Token: 1234, ipv4Gateway: "10.180.0.1" }] };
  return endpointFor(pod, assigned);
}

/** A CRD manifest as applied (wire field names), as far as the variants touch it. */
interface CrdVersion {
  selectableFields?: unknown;
  additionalPrinterColumns?: unknown;
  schema?: { openAPIV3Schema?: { properties?: Record<string, unknown> } };
}
interface Crd extends KubernetesObject {
  spec: { group: string; versions: CrdVersion[] };
}

/** The endpoint CRD under `group`, edited by `edit` (its one version). */
function variant(base: Crd, group: string, edit: (v: CrdVersion) => void): Crd {
  const crd = structuredClone(base);
  crd.metadata = { name: `${ENDPOINT_PLURAL}.${group}` };
  crd.spec.group = group;
  const version = crd.spec.versions[0];
  if (version) edit(version);
  return crd;
}

await ensureBinariesOrExit(CONTROL_PLANE);
const state = await startCluster("record-cost", CONTROL_PLANE);
try {
  const kc = adminKubeConfig(state);
  await applyCrds(kc);
  const base = localCrdManifests().find((c) => c.metadata?.name === `${ENDPOINT_PLURAL}.${GROUP}`) as Crd;
  const variants = {
    "SpiderEndpoint, the same CRD under another group": variant(base, "a.record-cost.local", () => undefined),
    "SpiderEndpoint, no selectable field, no printer columns": variant(base, "b.record-cost.local", (v) => {
      delete v.selectableFields;
      delete v.additionalPrinterColumns;
    }),
    "SpiderEndpoint, status unstructured": variant(base, "c.record-cost.local", (v) => {
      delete v.selectableFields;
      const schema = v.schema?.openAPIV3Schema;
      if (schema?.properties) schema.properties.status = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
    }),
  };
  await apply(kc, Object.values(variants));
  await establishCrds(kc, Object.values(variants));
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const customCreate = (group: string) => (i: number, tag: string) =>
    custom.createNamespacedCustomObject({ group, version: VERSION, namespace: NAMESPACE, plural: ENDPOINT_PLURAL, body: { ...record(i, tag), apiVersion: `${group}/${VERSION}` } });
  const kinds: Record<string, (i: number, tag: string) => Promise<unknown>> = {
    "ConfigMap with the same record": (i, tag) => {
      const ep = record(i, tag);
      return core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: ep.metadata.name, labels: ep.metadata.labels }, data: { status: JSON.stringify(ep.status) } } });
    },
    SpiderEndpoint: customCreate(GROUP),
    ...Object.fromEntries(Object.entries(variants).map(([name, crd]) => [name, customCreate(crd.spec.group)])),
  };
  const perCreate = new Map<string, { apiserver: number[]; etcd: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, create] of Object.entries(kinds)) {
      const before = processCpu();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < creates) await create(next++, `r${round}`);
        }),
      );
      const after = processCpu();
      const ms = (p: string): number => (((after.get(p) ?? 0) - (before.get(p) ?? 0)) / creates) * 1000;
      const row = perCreate.get(name) ?? { apiserver: [], etcd: [] };
      row.apiserver.push(ms("kube-apiserver"));
      row.etcd.push(ms("etcd"));
      perCreate.set(name, row);
    }
  }
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(" / ");
  const configMap = perCreate.get("ConfigMap with the same record")?.apiserver ?? [];
  console.log(`node ${process.version}; ${creates} creates per kind and round, ${CONCURRENCY} at a time; CPU milliseconds per create, rounds 1 / 2 / 3`);
  console.log("\n| kind | kube-apiserver | etcd | apiserver vs the ConfigMap, pair by pair |\n| --- | --- | --- | --- |");
  for (const [name, row] of perCreate) console.log(`| ${name} | ${list(row.apiserver)} | ${list(row.etcd)} | ${row.apiserver.map((x, i) => `${(x / (configMap[i] ?? NaN)).toFixed(2)}×`).join(" / ")} |`);
} finally {
  await stopCluster(state.dir);
}
