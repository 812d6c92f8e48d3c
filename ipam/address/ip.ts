import ipaddr from "ipaddr.js";
import { IpamError } from "../errors.js";

/** 4 or 6; the same values as `spec.ipVersion`. */
export type Family = 4 | 6;

/** One address as a number: IPv4 in [0, 2^32), IPv6 in [0, 2^128). */
export interface IPAddress {
  readonly family: Family;
  readonly value: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };
const MAX: Record<Family, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };
const V4_MAPPED_PREFIX = 0xffffn << 32n;

export function familyBits(family: Family): number {
  return BITS[family];
}

export function maxAddress(family: Family): bigint {
  return MAX[family];
}

export function familyName(family: Family): string {
  return family === 4 ? "IPv4" : "IPv6";
}

function invalid(text: string, why: string): IpamError {
  return new IpamError("IP_INVALID", `'${text}' is not a valid IP address: ${why}`, { value: text });
}

/**
 * Parses one address in the notations Kubernetes users write. Stricter than ipaddr.js on
 * purpose: it accepts `10.1`, `010.0.0.1` (octal) and `0x0a.0.0.1`, which Go's net.ParseIP
 * (and so Spiderpool) refuses, and which would silently mean another address.
 */
export function parseIP(text: string): IPAddress {
  if (typeof text !== "string" || text.length === 0) throw invalid(String(text), "empty");
  if (text.includes(":")) return parseIPv6(text);
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw invalid(text, "expected four decimal numbers 0-255 without leading zeros, e.g. 10.6.0.5");
  }
  const octets = ipaddr.IPv4.parse(text).octets;
  let value = 0n;
  for (const o of octets) value = (value << 8n) | BigInt(o);
  return { family: 4, value };
}

function parseIPv6(text: string): IPAddress {
  if (text.includes("%")) {
    throw invalid(text, "zone ids (%eth0) have no meaning in a pool; write the address alone");
  }
  if (!ipaddr.IPv6.isValid(text)) throw invalid(text, "expected an IPv6 address, e.g. fd00::5");
  const parsed = ipaddr.IPv6.parse(text);
  let value = 0n;
  for (const p of parsed.parts) value = (value << 16n) | BigInt(p);
  if (value >> 32n === V4_MAPPED_PREFIX >> 32n) {
    const v4 = formatIP(4, value & MAX[4]);
    throw invalid(text, `IPv4-mapped IPv6 addresses are not accepted; write the IPv4 address ${v4}`);
  }
  if (text.includes(".")) {
    throw invalid(text, `an embedded dotted IPv4 part is not accepted; write ${formatIP(6, value)}`);
  }
  return { family: 6, value };
}

/** Parses an address that must belong to `family`; `what` names it in the error. */
export function parseIPOfFamily(text: string, family: Family, what = "address"): IPAddress {
  const ip = parseIP(text);
  if (ip.family !== family) {
    throw new IpamError(
      "FAMILY_MISMATCH",
      `${what} '${text}' is ${familyName(ip.family)} but ${familyName(family)} is expected`,
      { value: text, expected: family },
    );
  }
  return ip;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 short form for IPv6. */
export function formatIP(family: Family, value: bigint): string {
  if (value < 0n || value > MAX[family]) {
    throw new IpamError("IP_INVALID", `${value} is out of the ${familyName(family)} address range`, {
      value: value.toString(),
    });
  }
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export function formatAddress(ip: IPAddress): string {
  return formatIP(ip.family, ip.value);
}
