import type { CIDR } from "../address/cidr.js";
import { RecentMap } from "../recent-map.js";
import type { PoolAllocations } from "./state.js";

/**
 * The last few records decoded, by their text: one pool write is read by the pool writer,
 * the status reconciler, the binder (twice per Pod), the stock, the collectors and the
 * metrics alike, and a record with thousands of pending reservations costs tens of
 * milliseconds to decode (its encoding as much again). Even a record of about 900
 * characters (a 1,000-address pool in a burst of Pods) cost 0.2 ms a decode, 6,410 decodes
 * and 1.3 s of the controller's CPU in one run of the 1,000-Pod scenario (its wave and
 * teardown) while it was left uncached; a lookup by such a text takes about 2 µs. Only
 * records too short to matter are decoded each time.
 * The decoded state is shared, so it is frozen (the core never modifies a state it was given).
 */
const MIN_CACHED_LENGTH = 64;
const ENTRIES = 16;
const memo = new RecentMap<string, { subnet: string; state: PoolAllocations }>(ENTRIES);

const subnetKey = (s: CIDR): string => `${s.family}/${s.network}/${s.prefix}`;

function remember(text: string, subnet: CIDR, state: PoolAllocations): PoolAllocations {
  Object.freeze(state.runs);
  Object.freeze(state.pending);
  Object.freeze(state.cooling);
  memo.set(text, { subnet: subnetKey(subnet), state: Object.freeze(state) });
  return state;
}

/** Records what a text just encoded decodes to (the state it was encoded from): the next reader of that record decodes nothing. */
export function rememberEncoded(text: string, subnet: CIDR, state: PoolAllocations): void {
  if (text.length >= MIN_CACHED_LENGTH) remember(text, subnet, state);
}

export function memoizedDecode(text: string, subnet: CIDR, decode: (text: string, subnet: CIDR) => PoolAllocations): PoolAllocations {
  if (text.length < MIN_CACHED_LENGTH) return decode(text, subnet);
  const key = subnetKey(subnet);
  const hit = memo.get(text);
  if (hit?.subnet === key) {
    // Most recently used is the newest, so the least recently used is the one forgotten.
    memo.set(text, hit);
    return hit.state;
  }
  return remember(text, subnet, decode(text, subnet));
}
