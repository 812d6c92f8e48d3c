import type { PoolView } from "../../../../ipam/allocation/pool-view.js";
import type { AllocateRequest, PoolRequest, PoolResponse, ReservationRef } from "../../../../ipam/allocation/requests.js";

interface ModelReservation {
  owner?: string;
  held: Map<string, bigint>;
}

/**
 * A deliberately naive model of one pool's allocations (maps and linear scans), used as the
 * oracle in the property tests: the real record must give the same answers.
 */
export class PoolModel {
  readonly held = new Map<bigint, number>();
  readonly cooling = new Map<bigint, number>();
  readonly pending = new Map<string, ModelReservation>();
  nextToken = 1;

  constructor(private readonly view: PoolView) {}

  private candidates(): bigint[] {
    return [...this.view.allocatable.values(10_000)];
  }

  /** What the pool should answer; also updates the model. */
  apply(req: PoolRequest, now: number, coolDownMs: number): Expected {
    for (const [a, until] of this.cooling) if (until <= now) this.cooling.delete(a);
    switch (req.kind) {
      case "allocate":
        return this.allocate(req);
      case "release":
        return { kind: "release", outcome: this.release(req.address, req.token, now, coolDownMs) };
      case "bind": {
        const found = this.pending.delete(req.reservation);
        return { kind: "bind", found };
      }
      case "release-reservation": {
        const res = this.pending.get(req.reservation);
        if (res === undefined) return { kind: "release-reservation", found: false };
        this.pending.delete(req.reservation);
        for (const a of res.held.values()) this.release(a, this.held.get(a) ?? -1, now, coolDownMs);
        return { kind: "release-reservation", found: true };
      }
    }
  }

  private release(address: bigint, token: number, now: number, coolDownMs: number): string {
    const t = this.held.get(address);
    if (t === undefined) return "not-held";
    if (t !== token) return "token-mismatch";
    this.held.delete(address);
    for (const [id, res] of this.pending) {
      for (const [nic, a] of res.held) if (a === address) res.held.delete(nic);
      if (res.held.size === 0) this.pending.delete(id);
    }
    if (coolDownMs > 0 && this.view.allocatable.contains(address)) this.cooling.set(address, now + coolDownMs);
    return "released";
  }

  private allocate(req: AllocateRequest): Expected {
    const nic = req.interface ?? "eth0";
    const ref = req.reservation;
    const joined = ref === undefined ? undefined : this.joined(ref);
    if (joined === "conflict") return { kind: "error", code: "RESERVATION_CONFLICT" };
    const again = joined && this.heldAgain(joined.res, nic, req);
    if (again !== undefined) return again;
    const picked = req.address !== undefined ? this.pinned(req.address.value) : this.lowestAvailable();
    if (typeof picked === "string") return { kind: "error", code: picked };
    this.take(picked, joined?.id ?? ref?.id, joined?.res.owner ?? ref?.owner, nic);
    return { kind: "allocate", address: picked, reused: false };
  }

  /** The pending reservation a request joins: the one with its id, else the (last) one of its owner. */
  private joined(ref: ReservationRef): { id: string; res: ModelReservation } | "conflict" | undefined {
    const byId = this.pending.get(ref.id);
    if (byId?.owner !== undefined && ref.owner !== undefined && byId.owner !== ref.owner) return "conflict";
    let existingId = byId === undefined ? undefined : ref.id;
    if (existingId === undefined && ref.owner !== undefined) {
      for (const [rid, r] of this.pending) if (r.owner === ref.owner) existingId = rid;
    }
    const existing = existingId === undefined ? undefined : this.pending.get(existingId);
    return existingId === undefined || existing === undefined ? undefined : { id: existingId, res: existing };
  }

  /** What a repeated request gets: the address the reservation already holds for the NIC. */
  private heldAgain(res: ModelReservation, nic: string, req: AllocateRequest): Expected | undefined {
    const a = res.held.get(nic);
    if (a === undefined) return undefined;
    if (req.address !== undefined && req.address.value !== a) return { kind: "error", code: "RESERVATION_CONFLICT" };
    return { kind: "allocate", address: a, reused: true };
  }

  /** The pinned address, or the code of the error refusing it. */
  private pinned(v: bigint): bigint | string {
    if (!this.view.ips.contains(v)) return "IP_NOT_IN_POOL";
    if (this.view.excluded.contains(v)) return "IP_EXCLUDED";
    if (v === this.view.gateway || this.view.reserved.contains(v)) return "IP_RESERVED";
    if (this.held.has(v)) return "IP_IN_USE";
    return v;
  }

  /** The lowest free address, else the one cooling down the shortest; POOL_EXHAUSTED when none. */
  private lowestAvailable(): bigint | string {
    const free = this.candidates().filter((a) => !this.held.has(a) && !this.cooling.has(a));
    const cooling = [...this.cooling].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
    return free[0] ?? cooling[0]?.[0] ?? "POOL_EXHAUSTED";
  }

  private take(address: bigint, id: string | undefined, owner: string | undefined, nic: string): void {
    if (this.held.has(address)) throw new Error("model bug: handing out a held address");
    this.held.set(address, this.nextToken++);
    this.cooling.delete(address);
    if (id === undefined) return;
    let res = this.pending.get(id);
    if (res === undefined) {
      res = { owner, held: new Map() };
      this.pending.set(id, res);
    }
    res.held.set(nic, address);
  }
}

export type Expected =
  | { kind: "allocate"; address: bigint; reused: boolean }
  | { kind: "release"; outcome: string }
  | { kind: "bind"; found: boolean }
  | { kind: "release-reservation"; found: boolean }
  | { kind: "error"; code: string };

/** The same shape from a real response, for a direct comparison. */
export function observed(r: PoolResponse): Expected {
  if (!r.ok) return { kind: "error", code: r.error.code };
  switch (r.kind) {
    case "allocate":
      return { kind: "allocate", address: r.allocation.address, reused: r.allocation.reused };
    case "release":
      return { kind: "release", outcome: r.outcome };
    case "bind":
      return { kind: "bind", found: r.found };
    case "release-reservation":
      return { kind: "release-reservation", found: r.found };
  }
}
