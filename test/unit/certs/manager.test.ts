import { describe, expect, it, jest } from "@jest/globals";
import forge from "node-forge";
import { ConflictError } from "../../../ipam/ports.js";
import { SECRET_KEYS, WebhookCertificates, type CaBundleTarget, type CertificateOptions, type SecretStore, type StoredSecret } from "../../../certs/manager.js";

// Each test makes several 2048-bit RSA keys: well under a second alone, more on a loaded machine.
jest.setTimeout(30_000);

/** An in-memory Secret with resourceVersion preconditions, like the apiserver's. */
class MemoryStore implements SecretStore {
  secret?: StoredSecret;
  writes = 0;
  failNextUpdates = 0;
  async get() {
    return this.secret && { data: { ...this.secret.data }, resourceVersion: this.secret.resourceVersion };
  }
  async create(data: Record<string, string>) {
    if (this.secret) throw new ConflictError("exists");
    return this.write(data);
  }
  async update(data: Record<string, string>, rv: string) {
    if (this.failNextUpdates > 0) {
      this.failNextUpdates--;
      throw new ConflictError("raced");
    }
    if (!this.secret || this.secret.resourceVersion !== rv) throw new ConflictError("stale");
    return this.write(data);
  }
  private write(data: Record<string, string>): StoredSecret {
    this.writes++;
    this.secret = { data: { ...data }, resourceVersion: String(this.writes) };
    return this.get() as unknown as StoredSecret;
  }
}

class Published implements CaBundleTarget {
  bundles: string[] = [];
  async inject(pem: string) {
    this.bundles.push(pem);
  }
}

const opts: CertificateOptions = {
  serviceName: "spiderpool-controller",
  namespace: "kube-system",
  extraDnsNames: [],
  extraIPs: ["127.0.0.1"],
  caValidityDays: 3650,
  certValidityDays: 365,
  renewBeforeDays: 30,
  caOverlapMs: 60_000,
};

const cert = (pem: string) => forge.pki.certificateFromPem(pem);
const certsIn = (bundle: string) => bundle.match(/BEGIN CERTIFICATE/g)?.length ?? 0;
const verifies = (caPem: string, leafPem: string) => cert(caPem).verify(cert(leafPem));

function clock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

describe("WebhookCertificates", () => {
  it("creates a CA and a serving certificate with the service names and IPs, and publishes the CA", async () => {
    const store = new MemoryStore();
    const target = new Published();
    const m = new WebhookCertificates(store, [target], opts);
    const served = await m.reconcile();
    expect(verifies(served.caBundlePem, served.certPem)).toBe(true);
    const names = (cert(served.certPem).getExtension("subjectAltName") as { altNames: { value?: string; ip?: string }[] }).altNames.map((n) => n.ip ?? n.value);
    expect(names).toEqual(expect.arrayContaining(["spiderpool-controller.kube-system.svc", "spiderpool-controller.kube-system.svc.cluster.local", "127.0.0.1"]));
    expect(target.bundles).toEqual([served.caBundlePem]);
  });

  it("changes nothing while the certificates are fresh", async () => {
    const store = new MemoryStore();
    const m = new WebhookCertificates(store, [], opts);
    const first = await m.reconcile();
    const writes = store.writes;
    const second = await m.reconcile();
    expect(store.writes).toBe(writes);
    expect(second.certPem).toBe(first.certPem);
  });

  it("renews the serving certificate under the same CA before it expires", async () => {
    const store = new MemoryStore();
    const c = clock();
    const m = new WebhookCertificates(store, [], opts, c.now);
    const first = await m.reconcile();
    c.advance((365 - 29) * 24 * 3600 * 1000);
    const renewed = await m.reconcile();
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.caBundlePem).toBe(first.caBundlePem);
    expect(verifies(first.caBundlePem, renewed.certPem)).toBe(true);
  });

  it("rotates the CA in two steps: both CAs trusted first, the serving certificate switches after the overlap", async () => {
    const store = new MemoryStore();
    const c = clock();
    const events: string[] = [];
    const m = new WebhookCertificates(store, [], opts, c.now, (e) => events.push(e));
    const first = await m.reconcile();
    const oldCa = store.secret?.data[SECRET_KEYS.caCert] ?? "";

    const during = await m.reconcile("ca");
    const newCa = store.secret?.data[SECRET_KEYS.caCert] ?? "";
    expect(newCa).not.toBe(oldCa);
    expect(during.certPem).toBe(first.certPem); // still served by the old CA
    expect(certsIn(during.caBundlePem)).toBe(2); // and both are trusted

    c.advance(30_000);
    expect((await m.reconcile()).certPem).toBe(first.certPem);

    c.advance(31_000);
    const after = await m.reconcile();
    expect(after.certPem).not.toBe(first.certPem);
    expect(verifies(newCa, after.certPem)).toBe(true);
    expect(certsIn(after.caBundlePem)).toBe(2);
    expect(events).toEqual(["created", "ca", "serving-after-ca"]);
  });

  it("retries from the stored state when another replica wrote first", async () => {
    const store = new MemoryStore();
    const m = new WebhookCertificates(store, [], opts);
    await m.reconcile();
    store.failNextUpdates = 1;
    const before = store.secret?.data[SECRET_KEYS.cert];
    const served = await m.reconcile("serving");
    // The forced rotation lost the race; the retry adopts what is stored, which is valid.
    expect(served.certPem).toBe(before);
  });

  it("lets two replicas starting together agree on one CA", async () => {
    const store = new MemoryStore();
    const [a, b] = await Promise.all([new WebhookCertificates(store, [], opts).reconcile(), new WebhookCertificates(store, [], opts).reconcile()]);
    expect(a.caBundlePem).toBe(b.caBundlePem);
    expect(a.certPem).toBe(b.certPem);
  });
});
