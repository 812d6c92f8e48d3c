/**
 * Addresses and CIDRs in the forms `ip -j` prints them, so that the coordinator compares
 * what it asked for with what the kernel holds: IPv6 in RFC 5952 form (lower case, longest
 * run of zero groups compressed), CIDRs with their host bits cleared. No node:net (its IPv6
 * check costs ~7 ms of start-up, see docs/cni.md); the syntax checks are cni/'s own.
 */
import { cidrFamily, ipFamily } from "../address-syntax.js";

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** The address as written (host bits kept), canonical form. */
  ip: string;
  prefix: number;
}

function v6Groups(text: string): number[] {
  const [head = "", tail] = text.split("::");
  const part = (s: string): number[] => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const h = part(head);
  if (tail === undefined) return h;
  const t = part(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function v6Text(groups: readonly number[]): string {
  // The longest run of two or more zero groups becomes "::" (the first such run on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: readonly number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** The address as bytes (4 or 16). */
export function ipBytes(text: string): number[] {
  if (ipFamily(text) === 4) return text.split(".").map(Number);
  return v6Groups(text).flatMap((g) => [g >> 8, g & 0xff]);
}

function bytesText(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return v6Text(groups);
}

/** The canonical text of an address, or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  return ipFamily(text) === undefined ? undefined : bytesText(ipBytes(text));
}

/** "a/p" (or a bare address, read as a host prefix) into a Cidr; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  if (!text.includes("/")) {
    const family = ipFamily(text);
    return family === undefined ? undefined : { family, ip: bytesText(ipBytes(text)), prefix: family === 4 ? 32 : 128 };
  }
  const family = cidrFamily(text);
  if (family === undefined) return undefined;
  const [ip = "", prefix = ""] = text.split("/");
  return { family, ip: bytesText(ipBytes(ip)), prefix: Number(prefix) };
}

/** The network of a CIDR: host bits cleared ("10.6.0.5/24" -> "10.6.0.0/24"). */
export function networkOf(c: Cidr): string {
  const bytes = ipBytes(c.ip);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, c.prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${bytesText(bytes)}/${c.prefix}`;
}

/** A host route's destination for an address: "a/32" or "a/128". */
export function hostPrefix(ip: string): string {
  return `${canonicalIP(ip) ?? ip}/${ipFamily(ip) === 6 ? 128 : 32}`;
}

/** `ip -j route` writes "default", a bare address for host routes, or "net/prefix". */
export function canonicalDst(dst: string, family: Family): string {
  if (dst === "default") return family === 4 ? "0.0.0.0/0" : "::/0";
  const c = parseCidr(dst);
  return c === undefined ? dst : networkOf(c);
}
