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
  /** The CA spiderpool-controller trusts for admission calls: it signed the apiserver's webhook client certificate and nothing else. */
  admissionClientCa: string;
  /** The client certificate the apiserver presents to admission webhooks (its AdmissionConfiguration kubeconfig). */
  webhookClientCert: string;
  webhookClientKey: string;
}

/** The common name of the apiserver's webhook client certificate. */
export const WEBHOOK_CLIENT_NAME = "kube-apiserver-webhook-client";

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
  // A CA of its own: a certificate the cluster CA signed (any user's) must not pass as the apiserver.
  const admissionCa = createCA("spiderpool-local-admission-client-ca");
  const webhookClient = issueCertificate(admissionCa, { commonName: WEBHOOK_CLIENT_NAME, usage: "client" });
  const files: ClusterPki = {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    apiserverCert: join(dir, "apiserver.crt"),
    apiserverKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    saPublic: join(dir, "sa.pub"),
    saPrivate: join(dir, "sa.key"),
    ...admissionClientFiles(dir),
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
    [files.admissionClientCa, admissionCa.certPem],
    [files.webhookClientCert, webhookClient.certPem],
    [files.webhookClientKey, webhookClient.keyPem],
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

/** Where a local cluster's PKI directory keeps the admission client CA and the apiserver's webhook client certificate. */
export function admissionClientFiles(pkiDir: string): Pick<ClusterPki, "admissionClientCa" | "webhookClientCert" | "webhookClientKey"> {
  return { admissionClientCa: join(pkiDir, "admission-client-ca.crt"), webhookClientCert: join(pkiDir, "webhook-client.crt"), webhookClientKey: join(pkiDir, "webhook-client.key") };
}

/**
 * The kube-apiserver's AdmissionConfiguration: both webhook plugins read a kubeconfig whose
 * user "*" (every webhook) presents the webhook client certificate.
 */
export function admissionConfiguration(pki: Pick<ClusterPki, "webhookClientCert" | "webhookClientKey">, dir: string): { configFile: string; kubeconfigFile: string } {
  const kubeconfigFile = join(dir, "admission-webhooks.kubeconfig");
  const configFile = join(dir, "admission-configuration.yaml");
  const kubeconfig = ["apiVersion: v1", "kind: Config", "users:", '- name: "*"', "  user:", `    client-certificate: ${pki.webhookClientCert}`, `    client-key: ${pki.webhookClientKey}`, ""];
  const plugin = (name: string) => [`- name: ${name}`, "  configuration:", "    apiVersion: apiserver.config.k8s.io/v1", "    kind: WebhookAdmissionConfiguration", `    kubeConfigFile: ${kubeconfigFile}`];
  const config = ["apiVersion: apiserver.config.k8s.io/v1", "kind: AdmissionConfiguration", "plugins:", ...plugin("ValidatingAdmissionWebhook"), ...plugin("MutatingAdmissionWebhook"), ""];
  writeFileSync(kubeconfigFile, kubeconfig.join("\n"), { mode: 0o600 });
  writeFileSync(configFile, config.join("\n"), { mode: 0o600 });
  return { configFile, kubeconfigFile };
}
