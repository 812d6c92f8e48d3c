import { createHash } from "node:crypto";

/**
 * The id of a reservation, derived from what makes the request unique so that a repeat gets
 * the same reservation instead of a second one:
 *  - admission: the AdmissionRequest uid (the apiserver repeats a webhook call with it);
 *  - late: the Pod's uid (an agent asks again for a Pod it asked for before).
 * The prefix tells them apart in pool records and logs.
 */
export function reservationId(origin: "admission" | "late", seed: string): string {
  const prefix = origin === "admission" ? "r" : "l";
  return `${prefix}${createHash("sha256").update(seed).digest("hex").slice(0, 15)}`;
}
