/**
 * The pure address core: address math, pools and allocation, pool selection, annotation
 * codecs, typed errors. No I/O; adapters (webhook, agent, cni) pass data in and get data out.
 */
export * from "./errors.js";

export * from "./address/ip.js";
export * from "./address/cidr.js";
export * from "./address/range.js";
export * from "./address/ipset.js";
export * from "./address/iplist.js";

export {
  type AllocationRun,
  type CoolingAddress,
  type HeldAddress,
  type Holder,
  type PendingReservation,
  type PoolAllocations,
  allocatedCount,
  bindReservation,
  emptyAllocations,
  expiredReservations,
  findReservation,
  holders,
  pruneCooling,
  tokenAt,
} from "./allocation/state.js";
export * from "./allocation/pool-view.js";
export * from "./allocation/requests.js";
export { allocate, applyPoolRequests, release, releaseReservation } from "./allocation/batch.js";
export { ALLOCATIONS_VERSION, decodeAllocations, encodeAllocations } from "./allocation/codec.js";
export * from "./allocation/usage.js";

export * from "./annotations/keys.js";
export * from "./annotations/pools.js";
export * from "./annotations/scalars.js";
export { canonicalRoute, formatRoutesAnnotation, parseRoutesAnnotation } from "./annotations/routes.js";
export * from "./annotations/pinned.js";
export * from "./annotations/assigned.js";
export * from "./annotations/multus.js";

export * from "./selection/types.js";
export * from "./selection/label-selector.js";
export { expandNames, globToRegExp, isGlob } from "./selection/glob.js";
export { type FilterContext, type Verdict, assertPoolAllowed, poolVerdict, subnetVerdict } from "./selection/filters.js";
export { selectCandidates } from "./selection/select.js";
