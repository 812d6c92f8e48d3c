// spiderpool-certs: writes a CA and a serving certificate for the controller's webhook,
// for installs that manage the Secret themselves (the Helm chart's --set-file, GitOps).
//   tsx certs/cli.ts --service spiderpool-controller --namespace kube-system --out ./certs-out [--ip 127.0.0.1] [--days 365]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCA, issueCertificate, serviceDnsNames } from "./pki.js";

interface Options {
  service: string;
  namespace: string;
  out: string;
  ips: string[];
  dnsNames: string[];
  days: number;
  caDays: number;
}

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { service: "spiderpool-controller", namespace: "kube-system", out: ".", ips: [], dnsNames: [], days: 365, caDays: 3650 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? "").split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--service": o.service = value(); break;
      case "--namespace": o.namespace = value(); break;
      case "--out": o.out = value(); break;
      case "--ip": o.ips.push(value()); break;
      case "--dns": o.dnsNames.push(value()); break;
      case "--days": o.days = Number(value()); break;
      case "--ca-days": o.caDays = Number(value()); break;
      default: throw new Error(`unknown argument ${String(flag)}; flags: --service --namespace --out --ip --dns --days --ca-days`);
    }
  }
  if (!Number.isInteger(o.days) || o.days <= 0 || !Number.isInteger(o.caDays) || o.caDays <= 0) throw new Error("--days and --ca-days take a positive whole number");
  return o;
}

/** Writes ca.crt, ca.key, tls.crt, tls.key under `out`; returns the caBundle (base64) to put in the webhook configurations. */
export function writeCertificates(o: Options): string {
  const ca = createCA(`${o.service}-ca`, o.caDays);
  const serving = issueCertificate(ca, {
    commonName: `${o.service}.${o.namespace}.svc`,
    dnsNames: [...serviceDnsNames(o.service, o.namespace), ...o.dnsNames],
    ipAddresses: o.ips,
    usage: "server",
    validDays: o.days,
  });
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "ca.crt"), ca.certPem);
  writeFileSync(join(o.out, "ca.key"), ca.keyPem, { mode: 0o600 });
  writeFileSync(join(o.out, "tls.crt"), serving.certPem);
  writeFileSync(join(o.out, "tls.key"), serving.keyPem, { mode: 0o600 });
  return Buffer.from(ca.certPem).toString("base64");
}

if (process.argv[1]?.endsWith("cli.ts") || process.argv[1]?.endsWith("spiderpool-certs.mjs")) {
  try {
    const caBundle = writeCertificates(parseArgs(process.argv.slice(2)));
    console.log(caBundle);
  } catch (err) {
    console.error(`spiderpool-certs: ${(err as Error).message}`);
    process.exit(2);
  }
}
