import { IpamError } from "../errors.js";
import { allocateInDraft } from "./allocate.js";
import { AllocationDraft } from "./draft.js";
import type { PoolView } from "./pool-view.js";
import { bindInDraft, releaseInDraft, releaseReservationInDraft } from "./release.js";
import type {
  AllocateRequest,
  Allocation,
  ApplyOptions,
  PoolRequest,
  PoolResponse,
  ReleaseOutcome,
} from "./requests.js";
import type { HeldAddress, PoolAllocations } from "./state.js";

/** Times go on the wire as whole milliseconds; catch a fractional clock here, not at decode. */
function checkOptions(options: ApplyOptions): void {
  for (const [name, v] of [["now", options.now], ["coolDownMs", options.coolDownMs]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`${name} must be a whole number of milliseconds >= 0, got ${v}`);
  }
}

function applyOne(draft: AllocationDraft, req: PoolRequest, options: ApplyOptions): PoolResponse {
  try {
    switch (req.kind) {
      case "allocate":
        return { ok: true, kind: "allocate", allocation: allocateInDraft(draft, req), view: draft.view };
      case "release":
        return { ok: true, kind: "release", outcome: releaseInDraft(draft, req.address, req.token, options) };
      case "bind":
        return { ok: true, kind: "bind", ...bindInDraft(draft, req.reservation) };
      case "release-reservation":
        return { ok: true, kind: "release-reservation", ...releaseReservationInDraft(draft, req.reservation, options) };
    }
  } catch (err) {
    if (err instanceof IpamError) return { ok: false, kind: req.kind, error: err };
    throw err;
  }
}

/**
 * Group commit: applies requests in order to one pool record and returns one final record to
 * write with a single compare-and-swap, plus one response per request. A failed request
 * (exhausted pool, address in use) changes nothing and does not stop the others.
 */
export function applyPoolRequests(
  view: PoolView,
  state: PoolAllocations,
  requests: readonly PoolRequest[],
  options: ApplyOptions,
): { state: PoolAllocations; results: PoolResponse[] } {
  checkOptions(options);
  const draft = new AllocationDraft(view, state, options.now);
  const results = requests.map((req) => applyOne(draft, req, options));
  return { state: draft.toState(), results };
}

/** One allocation; throws the IpamError that says why when it cannot be served. */
export function allocate(
  view: PoolView,
  state: PoolAllocations,
  request: Omit<AllocateRequest, "kind">,
  options: ApplyOptions,
): { state: PoolAllocations; allocation: Allocation } {
  checkOptions(options);
  const draft = new AllocationDraft(view, state, options.now);
  const allocation = allocateInDraft(draft, { ...request, kind: "allocate" });
  return { state: draft.toState(), allocation };
}

export function release(
  view: PoolView,
  state: PoolAllocations,
  address: bigint,
  token: number,
  options: ApplyOptions,
): { state: PoolAllocations; outcome: ReleaseOutcome } {
  checkOptions(options);
  const draft = new AllocationDraft(view, state, options.now);
  const outcome = releaseInDraft(draft, address, token, options);
  return { state: draft.toState(), outcome };
}

export function releaseReservation(
  view: PoolView,
  state: PoolAllocations,
  id: string,
  options: ApplyOptions,
): { state: PoolAllocations; found: boolean; released: readonly HeldAddress[] } {
  checkOptions(options);
  const draft = new AllocationDraft(view, state, options.now);
  const result = releaseReservationInDraft(draft, id, options);
  return { state: draft.toState(), ...result };
}
