import { describe, expect, it } from "@jest/globals";
import { formatIP } from "../../../ipam/address/ip.js";
import { appendHistory, HISTORY_BLOCK, historyBlock, parseHistory, type HistoryEntry } from "../../../ipam/lifecycle/address-history.js";

const T = Date.parse("2026-01-01T00:00:00Z");
const entry = (address: string, i: number): HistoryEntry => ({
  address,
  pod: `team-a/web-7d9f8c6b5-${i.toString(36).padStart(5, "x")}`,
  uid: `6c1f2a3b-4d5e-4f60-8a7b-${i.toString(16).padStart(12, "0")}`,
  from: T + i * 1000,
  until: T + i * 1000 + 3_600_000,
  reason: "pod-deleted",
});

describe("address history", () => {
  it("keeps each address's last three holders, oldest first, round-tripping what it keeps", () => {
    let text = "";
    for (let i = 0; i < 5; i++) text = appendHistory(text, [entry("10.6.0.5", i), entry("10.6.0.6", i)]);
    const got = parseHistory(text);
    expect(got.filter((e) => e.address === "10.6.0.5")).toEqual([2, 3, 4].map((i) => entry("10.6.0.5", i)));
    expect(got).toHaveLength(6);
  });

  it("keeps a /16 pool, churned until every address had more holders than are kept, far under the object size limit per object", () => {
    // A /16 is 256 history objects of 256 addresses; the largest one is a full block.
    const blocks = Number(65536n / HISTORY_BLOCK);
    let block = "";
    for (let round = 0; round < 5; round++) {
      block = appendHistory(block, Array.from({ length: Number(HISTORY_BLOCK) }, (_, k) => entry(formatIP(4, 0x0a060000n + BigInt(k)), round * 1000 + k)));
    }
    const bytes = Buffer.byteLength(block);
    expect(parseHistory(block)).toHaveLength(Number(HISTORY_BLOCK) * 3);
    // The apiserver's limit is about 1.5 MiB per object (ConfigMap data 1 MiB): stay far under it.
    expect(bytes).toBeLessThan(128 * 1024);
    expect(blocks).toBe(256);
    expect(historyBlock(255n)).toBe("0");
    expect(historyBlock(256n)).toBe("1");
  });
});
