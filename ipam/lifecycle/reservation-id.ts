import { createHash } from "node:crypto";

const PREFIX = { admission: "r", late: "l", stock: "s" } as const;

/** Whether a reservation was made ahead of any Pod (stock.ts): no Pod's admission chain is known to be running for it until it expires. */
export function isStockReservation(id: string): boolean {
  return id.startsWith(PREFIX.stock);
}

/**
 * The id of a reservation, derived from what makes the request unique so that a repeat gets
 * the same reservation instead of a second one:
 *  - admission: the AdmissionRequest uid (the apiserver repeats a webhook call with it);
 *  - late: the Pod's uid (an agent asks again for a Pod it asked for before);
 *  - stock: a reservation made ahead of any Pod (stock.ts), from a seed unique to it.
 * The prefix tells them apart in pool records and logs.
 */
export function reservationId(origin: "admission" | "late" | "stock", seed: string): string {
  const prefix = PREFIX[origin];
  return `${prefix}${createHash("sha256").update(seed).digest("hex").slice(0, 15)}`;
}
