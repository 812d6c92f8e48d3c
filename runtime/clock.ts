import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../ipam/ports.js";

/** The wall clock, for the programs; tests pass a fake (test/fakes/clock.ts). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch((err: unknown) => {
    if (!signal?.aborted) throw err;
  }),
};
