import { describe, expect, it } from "@jest/globals";
import { expandNames, globToRegExp } from "../../../../ipam/selection/glob.js";
import { describeSelector, matchesSelector, selectorProblem } from "../../../../ipam/selection/label-selector.js";

describe("label selector", () => {
  const labels = { app: "web", tier: "front" };
  it.each([
    [{}, true],
    [{ matchLabels: { app: "web" } }, true],
    [{ matchLabels: { app: "db" } }, false],
    [{ matchExpressions: [{ key: "app", operator: "In" as const, values: ["db", "web"] }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "In" as const, values: ["db"] }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "In" as const, values: ["a"] }] }, false],
    [{ matchExpressions: [{ key: "app", operator: "NotIn" as const, values: ["web"] }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "NotIn" as const, values: ["a"] }] }, true],
    [{ matchExpressions: [{ key: "tier", operator: "Exists" as const }] }, true],
    [{ matchExpressions: [{ key: "zone", operator: "Exists" as const }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "DoesNotExist" as const }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "DoesNotExist" as const }] }, false],
    [{ matchExpressions: [{ key: "app", operator: "In" as const, values: [] }] }, false],
    [{ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In" as const, values: ["back"] }] }, false],
  ])("%j -> %s", (selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("an unknown operator matches nothing and is reported", () => {
    const bad = { matchExpressions: [{ key: "app", operator: "Like" as never }] };
    expect(matchesSelector(bad, labels)).toBe(false);
    expect(selectorProblem(bad)).toBe("matchExpressions[0] has unknown operator 'Like'");
    expect(selectorProblem({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] })).toContain("takes no values");
    expect(selectorProblem({ matchLabels: { a: "b" } })).toBeUndefined();
  });

  it("describes itself for messages", () => {
    expect(describeSelector({ matchLabels: { zone: "a" }, matchExpressions: [{ key: "rack", operator: "In", values: ["r1", "r2"] }, { key: "gpu", operator: "DoesNotExist" }] })).toBe(
      "zone=a, rack in (r1,r2), !gpu",
    );
  });
});

describe("globs", () => {
  it.each([
    ["pool-*", "pool-a", true],
    ["pool-*", "pool", false],
    ["pool-?", "pool-ab", false],
    ["pool-[ab]", "pool-b", true],
    ["pool-[a-c]", "pool-c", true],
    ["pool-[!a]", "pool-a", false],
    ["pool-[^a]", "pool-b", true],
    ["pool.a", "poolxa", false],
    ["pool-[", "pool-[", true],
  ])("%s matches %s: %s", (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });

  it("expands in the user's order, globs in name order, each pool once", () => {
    const existing = ["v4-b", "v4-a", "v4-c", "other"];
    expect(expandNames(["v4-c", "v4-*", "missing", "x-*"], existing)).toEqual({
      names: ["v4-c", "v4-a", "v4-b", "missing"],
      unmatchedGlobs: ["x-*"],
    });
  });
});
