import type { Clock } from "./ports.js";

/**
 * The one retry policy of the project: capped exponential backoff with full jitter, bounded
 * by attempts and by a deadline. Every loop that waits and tries again (pool writes that lost
 * a compare-and-swap, informer restarts, the work queue, the agent's waits) goes through it.
 */
export interface Backoff {
  /** Delay before the second attempt; doubles each time. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Full jitter (a random delay in [0, d]) so replicas that collided do not collide again in lockstep; false for fixed polling. */
  readonly jitter: boolean;
}

export interface RetryPolicy extends Backoff {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Give up when the next attempt would start after this many ms from the first. */
  readonly deadlineMs?: number;
}

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const capped = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempt - 1));
  return b.jitter ? Math.floor(random() * capped) : capped;
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock: Clock;
  /** Whether an error is worth another attempt; others are thrown at once. */
  retryable: (err: unknown) => boolean;
  /** Called before each wait (metrics, a debug line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/**
 * Runs `attempt` until it resolves, a non-retryable error is thrown, or the policy's attempts
 * or deadline run out. On giving up the last error is thrown as it was (callers branch on its
 * type), so a caller sees the same errors with or without retries.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const started = o.clock.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!o.retryable(err) || n >= o.policy.attempts) throw err;
      const delay = backoffDelay(n, o.policy, o.random);
      if (o.policy.deadlineMs !== undefined && o.clock.now() + delay - started > o.policy.deadlineMs) throw err;
      o.onRetry?.(err, n, delay);
      await o.clock.sleep(delay);
    }
  }
}

/** The signal poll uses between looks; never escapes it. */
class NotYet extends Error {}

/** Polls `check` until it returns a value (not undefined), within the policy; undefined when it never did. */
export async function poll<T>(check: () => Promise<T | undefined>, policy: RetryPolicy, clock: Clock): Promise<T | undefined> {
  try {
    return await retry(async () => {
      const v = await check();
      if (v === undefined) throw new NotYet();
      return v;
    }, { policy, clock, retryable: (err) => err instanceof NotYet });
  } catch (err) {
    if (err instanceof NotYet) return undefined;
    throw err;
  }
}
