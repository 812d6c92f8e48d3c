import { formatCIDR } from "../address/cidr.js";
import { type IPAddress, familyName, formatIP } from "../address/ip.js";
import { IpamError } from "../errors.js";
import type { AllocationDraft, MutableReservation } from "./draft.js";
import { saturatingCount } from "./pool-view.js";
import { type AllocateRequest, type Allocation, DEFAULT_INTERFACE, type ReservationRef } from "./requests.js";

function summary(ranges: readonly string[]): string {
  if (ranges.length === 0) return "none";
  return ranges.length > 3 ? `${ranges.slice(0, 3).join(", ")}, …` : ranges.join(", ");
}

export function poolExhausted(draft: AllocationDraft): IpamError {
  const view = draft.view;
  const allocated = draft.allocatedCount();
  const blocked = view.totalIPCount - saturatingCount(view.allocatable.size());
  const extra = blocked > 0 ? `, ${blocked} reserved or gateway` : "";
  return new IpamError(
    "POOL_EXHAUSTED",
    `pool ${view.name} has 0 of ${view.totalIPCount} addresses free (${allocated} allocated${extra})`,
    { pool: view.name, total: view.totalIPCount, allocated },
  );
}

/** Why a pinned address cannot be taken, or undefined when it can. */
function pinnedRefusal(draft: AllocationDraft, ip: IPAddress): IpamError | undefined {
  const view = draft.view;
  const details = { pool: view.name, ip: "" };
  if (ip.family !== view.family) {
    return new IpamError(
      "FAMILY_MISMATCH",
      `${familyName(ip.family)} address ${formatIP(ip.family, ip.value)} cannot come from ${familyName(view.family)} pool ${view.name}`,
      { ...details, ip: formatIP(ip.family, ip.value) },
    );
  }
  const v = ip.value;
  const text = formatIP(view.family, v);
  details.ip = text;
  if (!view.ips.contains(v)) {
    return new IpamError(
      "IP_NOT_IN_POOL",
      `${text} is not in pool ${view.name} (subnet ${formatCIDR(view.subnet)}, ips ${summary(view.ips.toStrings())})`,
      details,
    );
  }
  if (view.excluded.contains(v)) {
    return new IpamError("IP_EXCLUDED", `${text} is in the excludeIPs of pool ${view.name}`, details);
  }
  if (v === view.gateway) {
    return new IpamError("IP_RESERVED", `${text} is the gateway of pool ${view.name}`, { ...details, reason: "gateway" });
  }
  if (view.reserved.contains(v)) {
    return new IpamError("IP_RESERVED", `${text} is reserved by a SpiderReservedIP`, { ...details, reason: "reservedip" });
  }
  const token = draft.tokenAt(v);
  if (token !== undefined) {
    const res = draft.reservationHolding(v);
    const who =
      res === undefined
        ? `held under token ${token} (see the SpiderEndpoint that records it)`
        : `reserved by ${res.owner ?? "a pod being admitted"} (reservation ${res.id})`;
    return new IpamError("IP_IN_USE", `${text} in pool ${view.name} is in use: ${who}`, {
      ...details,
      token,
      reservation: res?.id,
      owner: res?.owner,
    });
  }
  return undefined;
}

/** The lowest free address not cooling down; else (unless `fresh`) the one whose cool-down ends first. */
function lowestAvailable(draft: AllocationDraft, fresh = false): { address: bigint; fromCooling: boolean } {
  const free = draft.free.first();
  if (free !== undefined) return { address: free, fromCooling: false };
  if (fresh) throw poolExhausted(draft);
  for (let c = draft.cooling.popEarliest(); c !== undefined; c = draft.cooling.popEarliest()) {
    if (draft.view.allocatable.contains(c)) return { address: c, fromCooling: true };
  }
  throw poolExhausted(draft);
}

/**
 * The address held before, when it can be had again: free (or cooling), or still held under
 * the same token by no pending reservation (then it stops being held, to be taken again
 * under a fresh token). Undefined when it is gone to someone else or left the pool.
 */
function keptAddress(draft: AllocationDraft, keep: NonNullable<AllocateRequest["keep"]>): { address: bigint; fromCooling: boolean } | undefined {
  const { address, token } = keep;
  if (!draft.view.allocatable.contains(address)) return undefined;
  const held = draft.tokenAt(address);
  if (held === undefined) return { address, fromCooling: draft.cooling.has(address) };
  if (held !== token || draft.reservationHolding(address) !== undefined) return undefined;
  draft.drop(address);
  return { address, fromCooling: false };
}

/** The address a pinned request names, else the one kept from before, else the lowest available one. */
function pickAddress(draft: AllocationDraft, req: AllocateRequest): { address: bigint; fromCooling: boolean } {
  const pin = req.address;
  if (pin === undefined) return (req.keep && keptAddress(draft, req.keep)) || lowestAvailable(draft, req.fresh);
  const refusal = pinnedRefusal(draft, pin);
  if (refusal !== undefined) throw refusal;
  return { address: pin.value, fromCooling: draft.cooling.has(pin.value) };
}

/** The reservation an allocation joins: the existing one with this id or owner, else a new one under ref's id. */
function joinReservation(draft: AllocationDraft, ref: ReservationRef): { id: string; owner?: string; existing?: MutableReservation } {
  if (typeof ref.id !== "string" || ref.id === "" || !Number.isSafeInteger(ref.expiresAt)) {
    throw new TypeError("a reservation needs a non-empty id and a whole-millisecond expiresAt");
  }
  const owner = ref.owner || undefined;
  const byId = draft.reservation(ref.id);
  if (byId?.owner !== undefined && owner !== undefined && byId.owner !== owner) {
    throw new IpamError(
      "RESERVATION_CONFLICT",
      `reservation ${ref.id} in pool ${draft.view.name} belongs to ${byId.owner}, not ${owner}`,
      { pool: draft.view.name, reservation: ref.id, owner: byId.owner },
    );
  }
  const existing = byId ?? (owner === undefined ? undefined : draft.reservationOfOwner(owner));
  if (existing === undefined) return { id: ref.id, owner };
  return { id: existing.id, owner: existing.owner ?? owner, existing };
}

/**
 * What a reservation already holds for this NIC, handed out again with the reservation's
 * expiry extended; undefined when it holds nothing for the NIC. A pin to another address
 * is a conflict.
 */
function reuseHeld(draft: AllocationDraft, existing: MutableReservation, nic: string, pin: IPAddress | undefined, expiresAt: number): Allocation | undefined {
  const held = existing.held.find((h) => h.interface === nic);
  if (held === undefined) return undefined;
  if (pin !== undefined && pin.value !== held.address) {
    const holds = formatIP(draft.view.family, held.address);
    const wanted = formatIP(pin.family, pin.value);
    throw new IpamError(
      "RESERVATION_CONFLICT",
      `reservation ${existing.id} already holds ${holds} for ${nic} in pool ${draft.view.name}; ` +
        `release it before pinning ${wanted}`,
      { pool: draft.view.name, reservation: existing.id, interface: nic },
    );
  }
  draft.extendReservation(existing.id, expiresAt);
  return { ...held, interface: nic, reservation: existing.id, reused: true, fromCooling: false };
}

/**
 * Applies one allocation to a draft. Idempotent per (reservation or owner, interface): a
 * repeated admission gets back the address it already holds. Throws IpamError, having
 * changed nothing, when the request cannot be served.
 */
export function allocateInDraft(draft: AllocationDraft, req: AllocateRequest): Allocation {
  const nic = req.interface || DEFAULT_INTERFACE;
  const ref = req.reservation;
  const joined = ref === undefined ? undefined : joinReservation(draft, ref);
  if (ref !== undefined && joined?.existing !== undefined) {
    const reused = reuseHeld(draft, joined.existing, nic, req.address, ref.expiresAt);
    if (reused !== undefined) return reused;
  }
  const picked = pickAddress(draft, req);
  const token = draft.take(picked.address);
  if (ref !== undefined && joined !== undefined) {
    draft.addToReservation(joined.id, joined.owner, ref.expiresAt, { address: picked.address, token, interface: nic });
  }
  return { ...picked, token, interface: nic, reservation: joined?.id, reused: false };
}
