import { expect, it } from "@jest/globals";
import { RecentMap } from "../../../ipam/recent-map.js";

it("remembers the last keys set and forgets the oldest beyond its capacity", () => {
  const m = new RecentMap<string, number>(2);
  m.set("a", 1);
  m.set("b", 2);
  m.set("a", 3); // set again: now the newest
  m.set("c", 4);
  expect(["a", "b", "c"].map((k) => m.has(k))).toEqual([true, false, true]);
  expect([m.get("a"), m.get("b"), m.get("c")]).toEqual([3, undefined, 4]);
});
