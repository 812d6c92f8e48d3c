import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/** A PEM-encoded certificate and its private key. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "server" | "client" | "server-and-client";
  /** Validity in days, from `now`. */
  validDays?: number;
  now?: Date;
}

const DAY_MS = 24 * 3600 * 1000;

// node-forge writes CRLF line ends; everything else (and bundle comparisons) wants LF.
const pem = (cert: forge.pki.Certificate): string => forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n");

// RSA keys come from node:crypto (native, ~50 ms) because node-forge's pure-JS key
// generation takes seconds; node-forge then builds and signs the X.509 structures.
function newKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  return { forgeKey, publicKey, keyPem };
}

/**
 * A positive serial in minimal DER: the top bit clear so it is not read as negative, and the
 * first byte never 0 (a leading zero byte before one below 0x80 is not minimal, and Go's
 * x509, so the kube-apiserver, refuses the certificate: "malformed serial number").
 */
export function serialNumber(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  // Back-date a little so a peer whose clock is slightly behind accepts it.
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** A self-signed certificate authority. */
export function createCA(commonName: string, validDays = 3650, now = new Date()): KeyPair {
  const { forgeKey, publicKey, keyPem } = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, validDays);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { certPem: pem(cert), keyPem };
}

/** A leaf certificate signed by `ca`. */
export function issueCertificate(ca: KeyPair, req: CertificateRequest): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { publicKey, keyPem } = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, req.now ?? new Date(), req.validDays ?? 365);
  const subject: forge.pki.CertificateField[] = [{ name: "commonName", value: req.commonName }];
  for (const o of req.organizations ?? []) subject.push({ name: "organizationName", value: o });
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  const extensions: object[] = [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: "extKeyUsage",
      serverAuth: req.usage !== "client",
      clientAuth: req.usage !== "server",
    },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (altNames.length > 0) extensions.push({ name: "subjectAltName", altNames });
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: pem(cert), keyPem };
}

/** When a PEM certificate stops being valid. */
export function notAfter(certPem: string): Date {
  return forge.pki.certificateFromPem(certPem).validity.notAfter;
}

/** A PEM RSA key pair for signing service-account tokens. */
export function serviceAccountKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  };
}

/** The names a Service is reached by inside the cluster, for a serving certificate. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  const s = `${service}.${namespace}`;
  return [service, s, `${s}.svc`, `${s}.svc.cluster.local`];
}
