import type { Clock } from "../../ipam/ports.js";

/**
 * A clock that only moves when told to, or when someone sleeps: sleep(ms) advances the time
 * by ms and resolves at once, so retries and waits run instantly and deterministically, and
 * `slept` records every wait for the test to check.
 */
export class FakeClock implements Clock {
  readonly slept: number[] = [];
  constructor(private t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.t += ms;
    return Promise.resolve();
  }
}
