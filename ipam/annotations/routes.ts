import { formatCIDR, isDefaultRoute, parseCIDR } from "../address/cidr.js";
import { formatAddress, parseIPOfFamily } from "../address/ip.js";
import { IpamError } from "../errors.js";
import type { Route } from "../kinds/meta.js";
import { AnnotationReader } from "./json.js";
import { ANNO_ROUTES } from "./keys.js";

/**
 * One route in canonical form: `dst` a network (never the default route, which belongs to
 * the gateway), `gw` an address of the same family. Throws IpamError saying which part is bad.
 */
export function canonicalRoute(dst: string, gw: string): Route {
  const net = parseCIDR(dst);
  if (isDefaultRoute(net)) {
    throw new IpamError("CIDR_INVALID", `route dst ${dst} is a default route; set the pool's gateway instead`, { value: dst });
  }
  const via = parseIPOfFamily(gw, net.family, `route gw for ${formatCIDR(net)}`);
  return { dst: formatCIDR(net), gw: formatAddress(via) };
}

/** Parses a routes list; `where` prefixes messages; duplicate destinations are refused. */
export function parseRouteList(r: AnnotationReader, v: unknown, where: string): Route[] {
  const routes = r.list(v, where).map((item, i) => {
    const obj = r.object(item, `${where} entry ${i}`, ["dst", "gw"]);
    const dst = r.string(obj.dst, `${where} entry ${i} field dst`);
    const gw = r.string(obj.gw, `${where} entry ${i} field gw`);
    try {
      return canonicalRoute(dst, gw);
    } catch (err) {
      return r.fail(`${where} entry ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const dup = routes.find((x, i) => routes.findIndex((y) => y.dst === x.dst) !== i);
  if (dup !== undefined) r.fail(`${where} has two routes to ${dup.dst}`);
  return routes;
}

/** `ipam.spidernet.io/routes`: extra routes, each given to the NIC whose subnet holds `gw`. */
export function parseRoutesAnnotation(value: string): Route[] {
  const r = new AnnotationReader(ANNO_ROUTES, value, '[{"dst":"10.7.0.0/16","gw":"10.6.0.1"}]');
  return parseRouteList(r, r.json(), "the list");
}

export function formatRoutesAnnotation(routes: readonly Route[]): string {
  return JSON.stringify(routes.map((x) => ({ dst: x.dst, gw: x.gw })));
}
