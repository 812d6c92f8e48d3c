import type { AllocationDraft } from "./draft.js";
import type { ApplyOptions, ReleaseOutcome } from "./requests.js";
import type { HeldAddress } from "./state.js";

/**
 * Frees `address` only if the pool still holds it under `token`. Anything else is a reported
 * no-op: a repeated DEL, a GC that raced with a re-allocation, or a stale record must never
 * free an address that now belongs to someone else.
 */
export function releaseInDraft(
  draft: AllocationDraft,
  address: bigint,
  token: number,
  options: ApplyOptions,
): ReleaseOutcome {
  const held = draft.tokenAt(address);
  if (held === undefined) return "not-held";
  if (held !== token) return "token-mismatch";
  draft.drop(address);
  draft.returnAddress(address, options.now + options.coolDownMs, options.now);
  return "released";
}

/** Releases everything an unbound reservation holds (its TTL passed, or its Pod was refused). */
export function releaseReservationInDraft(
  draft: AllocationDraft,
  id: string,
  options: ApplyOptions,
): { found: boolean; released: HeldAddress[] } {
  const res = draft.removeReservation(id);
  if (res === undefined) return { found: false, released: [] };
  const released: HeldAddress[] = [];
  for (const h of res.held) {
    if (releaseInDraft(draft, h.address, h.token, options) === "released") released.push(h);
  }
  return { found: true, released };
}

/** Binding keeps the addresses held and forgets the pending entry. */
export function bindInDraft(draft: AllocationDraft, id: string): { found: boolean; held: HeldAddress[] } {
  const res = draft.removeReservation(id);
  return res === undefined ? { found: false, held: [] } : { found: true, held: res.held };
}
