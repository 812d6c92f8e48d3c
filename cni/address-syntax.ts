/**
 * Address syntax checks for the agent's answers, without node:net (whose IPv6 check
 * compiles a large regex on first use, ~7 ms of a ~50 ms plugin run). As strict as the
 * address core: decimal dotted quads without leading zeros; IPv6 in hex groups, no zone,
 * no embedded dotted quad.
 */
const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function isIPv4Text(text: string): boolean {
  return IPV4.test(text);
}

export function isIPv6Text(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | undefined => {
    if (half === "") return [];
    const parts = half.split(":");
    return parts.every((p) => HEX_GROUP.test(p)) ? parts : undefined;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return false;
  const count = head.length + tail.length;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function ipFamily(text: string): 4 | 6 | undefined {
  if (isIPv4Text(text)) return 4;
  if (isIPv6Text(text)) return 6;
  return undefined;
}

/** The family of a CIDR "address/prefix" (prefix 0-32 or 0-128, decimal), or undefined. */
export function cidrFamily(text: string): 4 | 6 | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix)) return undefined;
  const family = ipFamily(text.slice(0, slash));
  if (family === undefined) return undefined;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : undefined;
}
