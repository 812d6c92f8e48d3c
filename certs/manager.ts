import forge from "node-forge";
import { createCA, issueCertificate, notAfter, serviceDnsNames, type KeyPair } from "./pki.js";
import { ConflictError } from "../ipam/ports.js";
import { retry, type RetryPolicy } from "../ipam/retry.js";
import { systemClock } from "../runtime/clock.js";

/** Replicas that start together race for the Secret; six rounds settle it. */
const SECRET_RETRY: RetryPolicy = { attempts: 6, baseMs: 10, maxMs: 100, jitter: true };

/** The Secret's keys. tls.crt/tls.key serve; ca.* sign; ca-bundle.crt is what clients trust. */
export const SECRET_KEYS = {
  cert: "tls.crt",
  key: "tls.key",
  caCert: "ca.crt",
  caKey: "ca.key",
  bundle: "ca-bundle.crt",
  caRotatedAt: "ca-rotated-at",
} as const;

export interface StoredSecret {
  /** Decoded values. */
  data: Record<string, string>;
  resourceVersion: string;
}

/** The Secret holding the webhook's certificates. create/update fail with `ConflictError` on a race. */
export interface SecretStore {
  get(): Promise<StoredSecret | undefined>;
  create(data: Record<string, string>): Promise<StoredSecret>;
  update(data: Record<string, string>, resourceVersion: string): Promise<StoredSecret>;
}

/** Somewhere the CA bundle must be published (the webhook configurations). Idempotent. */
export interface CaBundleTarget {
  inject(caBundlePem: string): Promise<void>;
}

export interface CertificateOptions {
  serviceName: string;
  namespace: string;
  extraDnsNames: readonly string[];
  extraIPs: readonly string[];
  caValidityDays: number;
  certValidityDays: number;
  /** Renew a certificate this long before it expires. */
  renewBeforeDays: number;
  /**
   * After a new CA is published, how long both CAs are trusted before the serving
   * certificate switches to the new one: time for every apiserver to load the new bundle.
   */
  caOverlapMs: number;
}

export interface ServingMaterial extends KeyPair {
  caBundlePem: string;
}

export type RotationEvent = "created" | "serving" | "ca" | "serving-after-ca";

/** A new content for the Secret, and what it rotates. */
interface SecretChange {
  data: Record<string, string>;
  event: RotationEvent;
}

const DAY = 24 * 3600 * 1000;

function splitBundle(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((c) => `${c}\n`);
}

function issuedBy(certPem: string, caPem: string): boolean {
  try {
    return forge.pki.certificateFromPem(caPem).verify(forge.pki.certificateFromPem(certPem));
  } catch {
    return false;
  }
}

function sans(certPem: string): string[] {
  const ext: { altNames?: { value?: string; ip?: string }[] } | undefined = forge.pki.certificateFromPem(certPem).getExtension("subjectAltName");
  return (ext?.altNames ?? []).map((n) => n.ip ?? n.value ?? "").sort();
}

/**
 * Keeps the admission webhook's serving certificate valid, stored in one Secret shared by
 * every controller replica, and its CA published in the webhook configurations.
 *
 * reconcile() is idempotent and safe to call from every replica at once: writes are
 * compare-and-swap on the Secret, and the loser of a race adopts the winner's result.
 * Serving certificates are renewed under the same CA, so the bundle the apiserver trusts
 * does not change. A CA is replaced in two steps: first the new CA joins the bundle
 * while the old serving certificate stays; only after `caOverlapMs` does the serving
 * certificate switch. No request fails in between.
 */
export class WebhookCertificates {
  constructor(
    private readonly store: SecretStore,
    private readonly targets: readonly CaBundleTarget[],
    private readonly opts: CertificateOptions,
    private readonly now: () => Date = () => new Date(),
    private readonly onRotation: (what: RotationEvent) => void = () => undefined,
  ) {}

  dnsNames(): string[] {
    return [...serviceDnsNames(this.opts.serviceName, this.opts.namespace), ...this.opts.extraDnsNames];
  }

  private issueServing(ca: KeyPair): KeyPair {
    return issueCertificate(ca, {
      commonName: `${this.opts.serviceName}.${this.opts.namespace}.svc`,
      dnsNames: this.dnsNames(),
      ipAddresses: [...this.opts.extraIPs],
      usage: "server",
      validDays: this.opts.certValidityDays,
      now: this.now(),
    });
  }

  private expiresSoon(certPem: string): boolean {
    return notAfter(certPem).getTime() - this.now().getTime() < this.opts.renewBeforeDays * DAY;
  }

  /** What the Secret should hold next, or undefined when it is fine as it is. */
  private next(data: Record<string, string>, force?: "serving" | "ca"): SecretChange | undefined {
    const K = SECRET_KEYS;
    const ca: KeyPair = { certPem: data[K.caCert] ?? "", keyPem: data[K.caKey] ?? "" };
    const now = this.now().getTime();
    const trusted = splitBundle(data[K.bundle] ?? ca.certPem).filter((c) => notAfter(c).getTime() > now);

    const rotatedText = data[K.caRotatedAt];
    const rotatedAt = rotatedText ? Date.parse(rotatedText) : undefined;
    if (force === "ca" || (rotatedAt === undefined && this.expiresSoon(ca.certPem))) return this.withNewCA(data, trusted);
    if (rotatedAt !== undefined) return now - rotatedAt < this.opts.caOverlapMs ? undefined : this.servingAfterCA(data, ca);
    return this.renewedServing(data, ca, trusted, force);
  }

  /** Step one of a CA rotation: a new CA joins the bundle; the serving certificate stays for now. */
  private withNewCA(data: Record<string, string>, trusted: readonly string[]): SecretChange {
    const K = SECRET_KEYS;
    const fresh = createCA(`${this.opts.serviceName}-ca`, this.opts.caValidityDays, this.now());
    return {
      event: "ca",
      data: {
        ...data,
        [K.caCert]: fresh.certPem,
        [K.caKey]: fresh.keyPem,
        [K.bundle]: [fresh.certPem, ...trusted.filter((c) => c !== fresh.certPem)].join(""),
        [K.caRotatedAt]: this.now().toISOString(),
      },
    };
  }

  /** Step two, once every apiserver trusts the new CA: the serving certificate switches to it. */
  private servingAfterCA(data: Record<string, string>, ca: KeyPair): SecretChange {
    const K = SECRET_KEYS;
    const cert = data[K.cert] ?? "";
    const rest = { ...data };
    delete rest[K.caRotatedAt];
    const serving = issuedBy(cert, ca.certPem) ? { certPem: cert, keyPem: data[K.key] ?? "" } : this.issueServing(ca);
    return { event: "serving-after-ca", data: { ...rest, [K.cert]: serving.certPem, [K.key]: serving.keyPem } };
  }

  /** A new serving certificate under the same CA when forced, or when the current one has the wrong names, issuer or little time left. */
  private renewedServing(data: Record<string, string>, ca: KeyPair, trusted: readonly string[], force?: "serving" | "ca"): SecretChange | undefined {
    const K = SECRET_KEYS;
    const cert = data[K.cert] ?? "";
    const wrongNames = sans(cert).join(",") !== [...this.dnsNames(), ...this.opts.extraIPs].sort().join(",");
    if (force === "serving" || wrongNames || !issuedBy(cert, ca.certPem) || this.expiresSoon(cert)) {
      const serving = this.issueServing(ca);
      return { event: "serving", data: { ...data, [K.cert]: serving.certPem, [K.key]: serving.keyPem, [K.bundle]: trusted.join("") } };
    }
    return undefined;
  }

  /**
   * Brings the Secret and the published bundle up to date and returns what to serve.
   * `force` rotates now (an operator's request, or a test).
   */
  async reconcile(force?: "serving" | "ca"): Promise<ServingMaterial> {
    // Another replica wrote first: start again from what it wrote (without forcing twice).
    return retry(
      async (attempt) => {
        const stored = await this.ensureSecret();
        const change = this.next(stored.data, attempt === 1 ? force : undefined);
        const data = change ? (await this.store.update(change.data, stored.resourceVersion)).data : stored.data;
        if (change) this.onRotation(change.event);
        const material: ServingMaterial = {
          certPem: data[SECRET_KEYS.cert] ?? "",
          keyPem: data[SECRET_KEYS.key] ?? "",
          caBundlePem: data[SECRET_KEYS.bundle] ?? data[SECRET_KEYS.caCert] ?? "",
        };
        for (const t of this.targets) await t.inject(material.caBundlePem);
        return material;
      },
      { policy: SECRET_RETRY, clock: systemClock, retryable: (err) => err instanceof ConflictError },
    );
  }

  private async ensureSecret(): Promise<StoredSecret> {
    const existing = await this.store.get();
    if (existing?.data[SECRET_KEYS.caCert] && existing.data[SECRET_KEYS.caKey]) return existing;
    const ca = createCA(`${this.opts.serviceName}-ca`, this.opts.caValidityDays, this.now());
    const serving = this.issueServing(ca);
    const data = {
      [SECRET_KEYS.caCert]: ca.certPem,
      [SECRET_KEYS.caKey]: ca.keyPem,
      [SECRET_KEYS.cert]: serving.certPem,
      [SECRET_KEYS.key]: serving.keyPem,
      [SECRET_KEYS.bundle]: ca.certPem,
    };
    const created = existing ? await this.store.update(data, existing.resourceVersion) : await this.store.create(data);
    this.onRotation("created");
    return created;
  }
}
