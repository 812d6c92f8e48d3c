import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCA, issueCertificate, serviceAccountKeyPair } from "../certs/pki.js";

/** Files of the throwaway PKI a local control plane runs with. */
export interface ClusterPki {
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  saPublic: string;
  saPrivate: string;
}

export function writeClusterPki(dir: string): ClusterPki {
  mkdirSync(dir, { recursive: true });
  const ca = createCA("spiderpool-local-ca");
  const apiserver = issueCertificate(ca, {
    commonName: "kube-apiserver",
    usage: "server",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
    ipAddresses: ["127.0.0.1", "10.96.0.1"],
  });
  // O=system:masters: the admin identity the tests and the local tools use.
  const admin = issueCertificate(ca, { commonName: "local-admin", organizations: ["system:masters"], usage: "client" });
  const sa = serviceAccountKeyPair();
  const files: ClusterPki = {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    apiserverCert: join(dir, "apiserver.crt"),
    apiserverKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    saPublic: join(dir, "sa.pub"),
    saPrivate: join(dir, "sa.key"),
  };
  const contents: [string, string][] = [
    [files.caCert, ca.certPem],
    [files.caKey, ca.keyPem],
    [files.apiserverCert, apiserver.certPem],
    [files.apiserverKey, apiserver.keyPem],
    [files.adminCert, admin.certPem],
    [files.adminKey, admin.keyPem],
    [files.saPublic, sa.publicPem],
    [files.saPrivate, sa.privatePem],
  ];
  for (const [path, pem] of contents) writeFileSync(path, pem, { mode: 0o600 });
  return files;
}

/** An admin kubeconfig with the certificates inlined, so it can be copied anywhere. */
export function kubeconfigYaml(server: string, ca: string, cert: string, key: string, name = "spiderpool-local"): string {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${name}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(ca)}`,
    "users:",
    "- name: admin",
    "  user:",
    `    client-certificate-data: ${b64(cert)}`,
    `    client-key-data: ${b64(key)}`,
    "contexts:",
    `- name: ${name}`,
    "  context:",
    `    cluster: ${name}`,
    "    user: admin",
    `current-context: ${name}`,
    "",
  ].join("\n");
}
