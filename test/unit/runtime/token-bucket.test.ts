import { describe, expect, it } from "@jest/globals";
import { TokenBucket } from "../../../runtime/token-bucket.js";

describe("TokenBucket", () => {
  it("gives its burst at once, then refills at its rate and never beyond its burst", () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 99;
    expect(bucket.take()).toBe(false);
    now += 1;
    expect(bucket.take()).toBe(true);
    now += 60_000;
    expect(Array.from({ length: 4 }, () => bucket.take())).toEqual([true, true, true, false]);
  });
});
