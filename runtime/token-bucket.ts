/**
 * A token bucket: `burst` tokens at first, refilled at `perSecond`; take() says whether one
 * was left. Time comes from `now` (ms), so a test drives it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly o: { perSecond: number; burst: number },
    private readonly now: () => number,
  ) {
    this.tokens = o.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((t - this.last) / 1000) * this.o.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
