import { percentile } from "./cni-timing.js";

/** The median of unsorted samples (nearest rank). */
export const median = (xs: readonly number[]): number => percentile(xs, 50);

/** Runs `fn(0..n-1)` with at most `workers` calls in flight. */
export async function parallel(n: number, workers: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}
