import { expect, it } from "@jest/globals";
import { RecentSet } from "../../../runtime/recent-set.js";

it("remembers the last keys added and forgets the oldest beyond its capacity", () => {
  const s = new RecentSet(2);
  s.add("a");
  s.add("b");
  s.add("a"); // added again: now the newest
  s.add("c");
  expect(["a", "b", "c"].map((k) => s.has(k))).toEqual([true, false, true]);
});
