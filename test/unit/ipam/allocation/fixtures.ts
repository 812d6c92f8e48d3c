import { parseIP } from "../../../../ipam/address/ip.js";
import { parseIPList } from "../../../../ipam/address/iplist.js";
import { IPSet } from "../../../../ipam/address/ipset.js";
import { type PoolView, buildPoolView } from "../../../../ipam/allocation/pool-view.js";
import type { IPPoolSpec } from "../../../../ipam/kinds/ippool.js";

export const ip = (text: string): bigint => parseIP(text).value;

export function view(name: string, spec: IPPoolSpec, reserved: string[] = []): PoolView {
  const family = spec.subnet.includes(":") ? 6 : 4;
  const reservedSet = reserved.length === 0 ? IPSet.empty(family) : parseIPList(reserved, family);
  return buildPoolView({ metadata: { name }, spec }, reservedSet);
}

/** Freezes a value and everything under it, so a mutation of the input throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const opts = (now = 1_000, coolDownMs = 0) => ({ now, coolDownMs });
