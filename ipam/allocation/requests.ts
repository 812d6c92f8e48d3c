import type { IPAddress } from "../address/ip.js";
import type { IpamError } from "../errors.js";
import type { PoolView } from "./pool-view.js";
import type { HeldAddress } from "./state.js";

/** The reservation an allocation belongs to (one Pod admission), see PendingReservation. */
export interface ReservationRef {
  readonly id: string;
  readonly owner?: string;
  /** When an unbound reservation may be collected (ms since the epoch). */
  readonly expiresAt: number;
}

export interface AllocateRequest {
  readonly kind: "allocate";
  /** The Pod interface the address is for; with the reservation it makes a request idempotent. */
  readonly interface?: string;
  /** Absent for a late allocation whose Pod already exists (its endpoint records the token). */
  readonly reservation?: ReservationRef;
  /** A pinned address (`ipam.spidernet.io/ips`); otherwise the lowest free one. */
  readonly address?: IPAddress;
  /**
   * An address this Pod held before under `token` (a StatefulSet Pod re-created while its
   * ordinal is wanted): handed out again, under a fresh token so that a late release of the
   * old one is a no-op, if the pool still holds it under that token or has it free; else the
   * lowest free one, as without it.
   */
  readonly keep?: { readonly address: bigint; readonly token: number };
  /**
   * Only a free address, never one still cooling down (POOL_EXHAUSTED instead): for
   * reservations made ahead of any Pod (stock.ts), which must not cut a cool-down short.
   */
  readonly fresh?: boolean;
}

export interface ReleaseRequest {
  readonly kind: "release";
  readonly address: bigint;
  readonly token: number;
}

export interface BindRequest {
  readonly kind: "bind";
  readonly reservation: string;
}

export interface ReleaseReservationRequest {
  readonly kind: "release-reservation";
  readonly reservation: string;
}

export type PoolRequest = AllocateRequest | ReleaseRequest | BindRequest | ReleaseReservationRequest;

export interface Allocation {
  readonly address: bigint;
  readonly token: number;
  readonly interface: string;
  /** The reservation that holds it: the requested one, or the one this owner already had. */
  readonly reservation?: string;
  /** True when the request was a repeat and got back what it already held. */
  readonly reused: boolean;
  /** True when the pool had nothing else and a cooling-down address was handed out. */
  readonly fromCooling: boolean;
}

/**
 * - released: the pool held the address under that token; it is now cooling down (or free).
 * - not-held: the pool does not hold the address at all (already released, or unknown).
 * - token-mismatch: the address is held, but under another token: it went to someone else.
 */
export type ReleaseOutcome = "released" | "not-held" | "token-mismatch";

export type PoolResponse =
  /** `view`: the pool as the allocation saw it (subnet, gateway), so callers need not derive it again. */
  | { readonly ok: true; readonly kind: "allocate"; readonly allocation: Allocation; readonly view: PoolView }
  | { readonly ok: true; readonly kind: "release"; readonly outcome: ReleaseOutcome }
  | { readonly ok: true; readonly kind: "bind"; readonly found: boolean; readonly held: readonly HeldAddress[] }
  | {
      readonly ok: true;
      readonly kind: "release-reservation";
      readonly found: boolean;
      readonly released: readonly HeldAddress[];
    }
  | { readonly ok: false; readonly kind: PoolRequest["kind"]; readonly error: IpamError };

export interface ApplyOptions {
  /** The current time (ms); cool-downs and TTLs compare against it. */
  readonly now: number;
  /** How long a released address rests before reuse; 0 returns it at once. */
  readonly coolDownMs: number;
}

export const DEFAULT_INTERFACE = "eth0";
