/**
 * The main plugin's result, as the runtime hands it to a chained plugin in `prevResult`
 * (any of our versions: 0.3.x/0.4.0 IPs carry `version`, 1.0.0+ do not). The coordinator
 * needs the addresses and gateways of CNI_IFNAME, and prints the result back, changed only
 * where it changed the NIC (its MAC, with podMACPrefix).
 */
import { type Cidr, parseCidr } from "./addr.js";
import { invalidConfig } from "../errors.js";

export interface NicAddress extends Cidr {
  gateway?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The addresses (with their gateways) the main plugin gave `ifName`. */
export function nicAddresses(prevResult: unknown, ifName: string): NicAddress[] {
  if (!isObject(prevResult)) throw invalidConfig("prevResult must be an object", "the coordinator is a chained plugin: list it after the main plugin");
  const interfaces = Array.isArray(prevResult.interfaces) ? prevResult.interfaces : [];
  const ips = Array.isArray(prevResult.ips) ? prevResult.ips : [];
  // The NIC's entry: a sandbox interface with this name. Without interfaces (some IPAM-only
  // results), every address is taken as this NIC's.
  const index = interfaces.findIndex((i) => isObject(i) && i.name === ifName && typeof i.sandbox === "string" && i.sandbox !== "");
  return ips.flatMap((ip, n): NicAddress[] => {
    if (!isObject(ip) || typeof ip.address !== "string") throw invalidConfig(`prevResult.ips[${n}] has no address`);
    if (interfaces.length > 0 && ip.interface !== index) return [];
    const c = parseCidr(ip.address);
    if (c === undefined || !ip.address.includes("/")) throw invalidConfig(`prevResult.ips[${n}].address is not in CIDR form`, ip.address);
    const out: NicAddress = { ...c };
    if (typeof ip.gateway === "string" && ip.gateway !== "") out.gateway = parseCidr(ip.gateway)?.ip ?? ip.gateway;
    return [out];
  });
}

/** The result to print: prevResult, with `cniVersion` the config's and the NIC's MAC updated. */
export function outputResult(prevResult: unknown, cniVersion: string, ifName: string, mac?: string): Json {
  const out: Json = { ...(prevResult as Json), cniVersion };
  if (mac !== undefined && Array.isArray(out.interfaces)) {
    out.interfaces = out.interfaces.map((i: unknown) => (isObject(i) && i.name === ifName && typeof i.sandbox === "string" && i.sandbox !== "" ? { ...i, mac } : i));
  }
  return out;
}
