import { type Family, type IPAddress, formatAddress, parseIPOfFamily } from "../address/ip.js";
import { AnnotationReader } from "./json.js";
import { ANNO_IPS, defaultInterfaceName } from "./keys.js";

/** (ext) `ipam.spidernet.io/ips`: exact addresses for one NIC. */
export interface PinnedNicIPs {
  readonly interface: string;
  readonly ipv4?: IPAddress;
  readonly ipv6?: IPAddress;
}

function address(r: AnnotationReader, v: unknown, family: Family, where: string): IPAddress | undefined {
  if (v === undefined) return undefined;
  const text = r.string(v, where);
  try {
    return parseIPOfFamily(text, family, where);
  } catch (err) {
    return r.fail(err instanceof Error ? err.message : String(err));
  }
}

export function parsePinnedIPs(value: string): PinnedNicIPs[] {
  const r = new AnnotationReader(ANNO_IPS, value, '[{"interface":"eth0","ipv4":"10.6.0.50","ipv6":"fd00:6::50"}]');
  const list = r.list(r.json(), "the value");
  if (list.length === 0) r.fail(`the list is empty; expected e.g. ${r.example}`);
  const entries = list.map((e, i) => r.object(e, `entry ${i}`, ["interface", "ipv4", "ipv6"]));
  const given = entries.map((e, i) => r.optionalInterface(e.interface, `entry ${i} field interface`));
  const set = given.filter((g) => g !== undefined).length;
  if (set !== 0 && set !== entries.length) r.fail("interface must be set on every entry or on none");
  const out = entries.map((e, i) => {
    const ipv4 = address(r, e.ipv4, 4, `entry ${i} field ipv4`);
    const ipv6 = address(r, e.ipv6, 6, `entry ${i} field ipv6`);
    if (ipv4 === undefined && ipv6 === undefined) r.fail(`entry ${i} pins no address; expected ipv4 and/or ipv6`);
    const nic = given[i] ?? defaultInterfaceName(i);
    return { interface: nic, ...(ipv4 && { ipv4 }), ...(ipv6 && { ipv6 }) };
  });
  const dup = out.find((x, i) => out.findIndex((y) => y.interface === x.interface) !== i);
  if (dup !== undefined) r.fail(`interface ${dup.interface} appears twice`);
  return out;
}

export function formatPinnedIPs(list: readonly PinnedNicIPs[]): string {
  return JSON.stringify(
    list.map((p) => ({
      interface: p.interface,
      ...(p.ipv4 && { ipv4: formatAddress(p.ipv4) }),
      ...(p.ipv6 && { ipv6: formatAddress(p.ipv6) }),
    })),
  );
}
