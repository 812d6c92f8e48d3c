import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { issueCertificate } from "../certs/pki.js";
import { reuseConnections } from "../k8s/connections.js";
import type { ClusterState } from "./cluster.js";
import { kubeconfigYaml } from "./pki.js";

/** A KubeConfig for a running local cluster, as its admin (O=system:masters). */
export function adminKubeConfig(state: Pick<ClusterState, "kubeconfig">): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  return reuseConnections(kc);
}

/**
 * A KubeConfig for another identity of a local cluster: a client certificate signed by
 * the cluster CA (so the apiserver authenticates it), with no rights until RBAC grants some.
 */
export function identityKubeConfig(state: Pick<ClusterState, "dir" | "server">, username: string, groups: string[] = []): KubeConfig {
  const ca = { certPem: readFileSync(join(state.dir, "pki", "ca.crt"), "utf8"), keyPem: readFileSync(join(state.dir, "pki", "ca.key"), "utf8") };
  const cert = issueCertificate(ca, { commonName: username, organizations: groups, usage: "client" });
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(state.server, ca.certPem, cert.certPem, cert.keyPem));
  return reuseConnections(kc);
}
