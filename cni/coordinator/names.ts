/**
 * Names and numbers the coordinator gives what it creates, so that DEL, CHECK and GC find
 * exactly that again without keeping state: the host-side veth is named after the
 * container, carries an alias naming the network and the container, and every route and
 * rule is tagged with the coordinator's routing protocol number.
 */
/** The Pod side of the veth pair (Spiderpool's name). */
export const POD_VETH = "veth0";

/** `proto`/`protocol` on every route and rule the coordinator adds: how DEL and GC tell them from others. */
export const ROUTE_PROTO = "212";

/** Priority of the node's rules "to <Pod address> lookup <hostRuleTable>" (Spiderpool's). */
export const HOST_RULE_PRIORITY = 1000;

/** Per-NIC tables in the Pod: 100 + the number that ends the NIC's name (eth0 -> 100, net1 -> 101). */
export const POD_TABLE_BASE = 100;

const ALIAS_PREFIX = "spiderpool-coordinator";

/**
 * FNV-1a, 64 bits, in hex: names need a stable spread, not secrecy, and node:crypto would
 * add milliseconds to every plugin start.
 */
function fnv(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}

/** "vsp" + 12 hex digits of the container id's hash: 15 bytes, the kernel's limit. */
export function hostVethName(containerID: string): string {
  return `vsp${fnv(containerID).slice(0, 12)}`;
}

/** The host veth's alias: the network (hashed: names may be long) and the container. */
export function hostVethAlias(network: string, containerID: string): string {
  return `${ALIAS_PREFIX}:${fnv(network)}:${containerID}`;
}

/** The container id in one of our aliases for `network`, else undefined. */
export function containerOfAlias(alias: string | undefined, network: string): string | undefined {
  const prefix = `${ALIAS_PREFIX}:${fnv(network)}:`;
  return alias?.startsWith(prefix) ? alias.slice(prefix.length) : undefined;
}

/** The Pod table of a NIC, or undefined when its name does not end in a number. */
export function podTableOf(nic: string): number | undefined {
  const m = /(\d+)$/.exec(nic);
  return m ? POD_TABLE_BASE + Number(m[1]) : undefined;
}
