// Whereabouts (github.com/k8snetworkplumbingwg/whereabouts), the Go IPAM most Multus users
// run, as bench/cni-add's yardstick: built from the Go module proxy into the binaries cache
// (scripts/build-binaries.sh whereabouts), its CRDs applied from the copies kept beside it.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { CustomObjectsApi } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cachedPath } from "../local-cluster/binaries.js";
import { apply, waitFor } from "../local-cluster/kube.js";

export const whereaboutsBinary = (): string => cachedPath("whereabouts");

/** Applies Whereabouts' CRDs and waits until its IPPool kind is served. */
export async function applyWhereaboutsCrds(kc: KubeConfig): Promise<void> {
  const dir = join(dirname(whereaboutsBinary()), "crds");
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as KubernetesObject[]);
  await apply(kc, docs.filter((d) => d?.kind === "CustomResourceDefinition"));
  const api = kc.makeApiClient(CustomObjectsApi);
  await waitFor("whereabouts CRDs served", async () => {
    await api.listClusterCustomObject({ group: "whereabouts.cni.cncf.io", version: "v1alpha1", plural: "ippools" });
    return true;
  });
}

/**
 * A network config with Whereabouts as IPAM, as its README shows it: one range, and the
 * flat file every node has (whereabouts.d/whereabouts.conf: the Kubernetes datastore
 * through a kubeconfig; Whereabouts keeps its pools and its Lease in the kubeconfig
 * context's namespace, kube-system when unset), written into `dir`. Its defaults stay: the
 * cluster-wide Lease per ADD and overlapping-range reservations, as users run it.
 */
export function whereaboutsConf(kubeconfig: string, range: string, dir: string): string {
  const flat = join(dir, "whereabouts.conf");
  writeFileSync(flat, JSON.stringify({ datastore: "kubernetes", kubernetes: { kubeconfig } }));
  return JSON.stringify({
    cniVersion: "1.0.0",
    name: "bench-whereabouts",
    type: "macvlan",
    ipam: { type: "whereabouts", range, log_level: "error", configuration_path: flat, kubernetes: { kubeconfig } },
  });
}
