import { IpamError } from "../errors.js";
import { type Family, type IPAddress, familyBits, familyName, formatIP, parseIP } from "./ip.js";

/** A network: `network` is the first address, `last` the broadcast/last one. */
export interface CIDR {
  readonly family: Family;
  readonly prefix: number;
  readonly network: bigint;
  readonly last: bigint;
}

/** An interface address such as `10.6.0.5/24`: the address and the network it sits in. */
export interface AddressInCIDR {
  readonly address: IPAddress;
  readonly cidr: CIDR;
}

function cidrError(text: string, why: string): IpamError {
  return new IpamError("CIDR_INVALID", `'${text}' is not a valid CIDR: ${why}`, { value: text });
}

export function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/** The network of `prefix` bits that holds `value`. */
export function cidrOf(family: Family, value: bigint, prefix: number): CIDR {
  const mask = hostMask(family, prefix);
  const network = value & ~mask;
  return { family, prefix, network, last: network | mask };
}

function split(text: string): { address: IPAddress; prefix: number } {
  if (typeof text !== "string") throw cidrError(String(text), "expected a string like 10.6.0.0/24");
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) {
    throw cidrError(text, "expected address/prefix, e.g. 10.6.0.0/24 or fd00:6::/64");
  }
  const prefixText = text.slice(slash + 1);
  let address: IPAddress;
  try {
    address = parseIP(text.slice(0, slash));
  } catch (err) {
    throw cidrError(text, err instanceof Error ? err.message : String(err));
  }
  const bits = familyBits(address.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    throw cidrError(text, `the prefix length must be a number from 0 to ${bits} for ${familyName(address.family)}`);
  }
  return { address, prefix: Number(prefixText) };
}

/**
 * Parses a network in its network form only: `10.6.0.5/24` is refused (with the network it
 * probably means), because a pool `subnet` with host bits set is almost always a typo.
 */
export function parseCIDR(text: string): CIDR {
  const { address, prefix } = split(text);
  const cidr = cidrOf(address.family, address.value, prefix);
  if (cidr.network !== address.value) {
    throw cidrError(text, `host bits are set; the network is ${formatCIDR(cidr)}`);
  }
  return cidr;
}

/** Parses the address-in-network form (`10.6.0.5/24`), as in assigned IPs and endpoints. */
export function parseAddressInCIDR(text: string): AddressInCIDR {
  const { address, prefix } = split(text);
  return { address, cidr: cidrOf(address.family, address.value, prefix) };
}

export function formatCIDR(cidr: CIDR): string {
  return `${formatIP(cidr.family, cidr.network)}/${cidr.prefix}`;
}

/** `10.6.0.5/24`: an address with the prefix of its network. */
export function formatAddressInCIDR(value: bigint, cidr: CIDR): string {
  return `${formatIP(cidr.family, value)}/${cidr.prefix}`;
}

export function cidrSize(cidr: CIDR): bigint {
  return cidr.last - cidr.network + 1n;
}

export function cidrContains(cidr: CIDR, value: bigint): boolean {
  return value >= cidr.network && value <= cidr.last;
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  return a.family === b.family && a.network <= b.last && b.network <= a.last;
}

export function isDefaultRoute(cidr: CIDR): boolean {
  return cidr.prefix === 0;
}
