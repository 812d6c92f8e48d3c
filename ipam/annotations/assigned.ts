import { cidrContains, formatAddressInCIDR, parseAddressInCIDR } from "../address/cidr.js";
import { type Family, familyName, formatAddress, parseIPOfFamily } from "../address/ip.js";
import type { EndpointIP } from "../kinds/endpoint.js";
import type { Route } from "../kinds/meta.js";
import { AnnotationReader } from "./json.js";
import { ANNO_ASSIGNED_IPS } from "./keys.js";
import { parseRouteList } from "./routes.js";

/**
 * One NIC of `ipam.spidernet.io/assigned-ips`: what SpiderEndpoint records per NIC,
 * including the pool-local token of each address, so the agent can check the pool still
 * holds exactly this address for this Pod and a release can be exact.
 */
export type AssignedNic = EndpointIP;

/** (ext, written by the webhook) the reservation made at admission and what it holds. */
export interface AssignedIPs {
  reservation: string;
  ips: AssignedNic[];
}

const NIC_FIELDS = [
  "interface",
  "ipv4",
  "ipv4Pool",
  "ipv4Gateway",
  "ipv4Token",
  "ipv6",
  "ipv6Pool",
  "ipv6Gateway",
  "ipv6Token",
  "vlan",
  "cleanGateway",
  "routes",
] as const;

function integer(r: AnnotationReader, v: unknown, where: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    r.fail(`${where} must be a whole number from ${min} to ${max}`);
  }
  return v;
}

/** Reads ipvN, ipvNPool, ipvNGateway, ipvNToken of one family into `out`. */
function readFamily(r: AnnotationReader, obj: Record<string, unknown>, family: Family, where: string, out: AssignedNic): void {
  const p = family === 4 ? "ipv4" : "ipv6";
  const text = r.optionalString(obj[p], `${where} field ${p}`);
  const rest = [`${p}Pool`, `${p}Gateway`, `${p}Token`].filter((k) => obj[k] !== undefined);
  if (text === undefined) {
    if (rest.length > 0) r.fail(`${where} has ${rest.join(", ")} without ${p}`);
    return;
  }
  let addr: ReturnType<typeof parseAddressInCIDR>;
  try {
    addr = parseAddressInCIDR(text);
  } catch (err) {
    return r.fail(`${where} field ${p}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (addr.address.family !== family) r.fail(`${where} field ${p} must be an ${familyName(family)} address like 10.6.0.5/24`);
  out[p] = formatAddressInCIDR(addr.address.value, addr.cidr);
  out[`${p}Pool`] = r.string(obj[`${p}Pool`], `${where} field ${p}Pool`);
  const gw = r.optionalString(obj[`${p}Gateway`], `${where} field ${p}Gateway`);
  if (gw !== undefined) {
    let value: bigint;
    try {
      value = parseIPOfFamily(gw, family, `${p}Gateway`).value;
    } catch (err) {
      return r.fail(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!cidrContains(addr.cidr, value)) r.fail(`${where} field ${p}Gateway ${gw} is outside ${out[p]}`);
    out[`${p}Gateway`] = formatAddress({ family, value });
  }
  const token = integer(r, obj[`${p}Token`], `${where} field ${p}Token`, 1, Number.MAX_SAFE_INTEGER);
  if (token !== undefined) out[`${p}Token`] = token;
}

function readRoutes(r: AnnotationReader, v: unknown, where: string, nic: AssignedNic): Route[] {
  const routes = parseRouteList(r, v, `${where} field routes`);
  for (const route of routes) {
    const family = route.gw.includes(":") ? "ipv6" : "ipv4";
    const own = nic[family];
    const ok = own !== undefined && cidrContains(parseAddressInCIDR(own).cidr, parseIPOfFamily(route.gw, family === "ipv4" ? 4 : 6).value);
    if (!ok) r.fail(`${where} route to ${route.dst} goes via ${route.gw}, which is not in this NIC's ${family} subnet`);
  }
  return routes;
}

export function parseAssignedIPs(value: string): AssignedIPs {
  const r = new AnnotationReader(
    ANNO_ASSIGNED_IPS,
    value,
    '{"reservation":"r-8kq2z","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"v4-a","ipv4Token":17}]}',
  );
  const top = r.object(r.json(), "the value", ["reservation", "ips"]);
  const reservation = r.string(top.reservation, "field reservation");
  const list = r.list(top.ips, "field ips");
  if (list.length === 0) r.fail("field ips is empty");
  const seen = new Set<string>();
  const ips = list.map((item, i) => {
    const where = `ips entry ${i}`;
    const obj = r.object(item, where, NIC_FIELDS);
    const nic: AssignedNic = { interface: r.string(obj.interface, `${where} field interface`) };
    if (seen.has(nic.interface)) r.fail(`interface ${nic.interface} appears twice`);
    seen.add(nic.interface);
    readFamily(r, obj, 4, where, nic);
    readFamily(r, obj, 6, where, nic);
    if (nic.ipv4 === undefined && nic.ipv6 === undefined) r.fail(`${where} has neither ipv4 nor ipv6`);
    const vlan = integer(r, obj.vlan, `${where} field vlan`, 0, 4094);
    if (vlan !== undefined) nic.vlan = vlan;
    const clean = r.boolean(obj.cleanGateway, `${where} field cleanGateway`);
    if (clean !== undefined) nic.cleanGateway = clean;
    if (obj.routes !== undefined) nic.routes = readRoutes(r, obj.routes, where, nic);
    return nic;
  });
  return { reservation, ips };
}

/**
 * Whether two NIC lists say the same, whatever their key order (the apiserver returns
 * custom resources with keys sorted, the annotation keeps this project's order).
 */
export function sameNics(a: readonly AssignedNic[] | undefined, b: readonly AssignedNic[] | undefined): boolean {
  return formatAssignedIPs({ reservation: "", ips: [...(a ?? [])] }) === formatAssignedIPs({ reservation: "", ips: [...(b ?? [])] });
}

/** Canonical JSON (fixed key order), so a rewrite of an unchanged value is byte-identical. */
export function formatAssignedIPs(a: AssignedIPs): string {
  const ips = a.ips.map((nic) => {
    const out: Record<string, unknown> = {};
    for (const key of NIC_FIELDS) {
      const v = nic[key];
      if (v !== undefined) out[key] = key === "routes" ? (v as Route[]).map((x) => ({ dst: x.dst, gw: x.gw })) : v;
    }
    return out;
  });
  return JSON.stringify({ reservation: a.reservation, ips });
}
