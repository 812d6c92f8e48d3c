import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { REPO_ROOT } from "../../../local-cluster/binaries.js";
import { documentedValues, leafKeys, valuesTable, withValuesTable } from "../../../local-cluster/chart-values-doc.js";

const chart = join(REPO_ROOT, "charts/spiderpool");
const valuesText = readFileSync(join(chart, "values.yaml"), "utf8");
const readme = readFileSync(join(chart, "README.md"), "utf8");

describe("the chart's values and README", () => {
  const docs = documentedValues(valuesText);

  it("README's values table is the one values.yaml's comments make (npm run gen:docs)", () => {
    expect(readme).toBe(withValuesTable(readme, valuesText));
  });

  it("documents every value: each leaf of values.yaml is a documented key or lies under one", () => {
    const documented = docs.map((d) => d.key);
    const undocumented = leafKeys(yaml.load(valuesText)).filter((leaf) => !documented.some((k) => leaf === k || leaf.startsWith(`${k}.`)));
    expect(undocumented).toEqual([]);
  });

  it("gives every documented key a description and a default that exists", () => {
    for (const d of docs) {
      expect({ key: d.key, described: d.description.length > 10 }).toEqual({ key: d.key, described: true });
      expect({ key: d.key, default: d.default }).not.toEqual({ key: d.key, default: undefined });
    }
  });

  it("keeps the chart's version and appVersion equal to package.json's", () => {
    const meta = yaml.load(readFileSync(join(chart, "Chart.yaml"), "utf8")) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect([meta.version, meta.appVersion]).toEqual([pkg.version, pkg.version]);
  });
});

describe("documentedValues", () => {
  const sample = [
    "# header, not a key's",
    "",
    "# -- the name",
    "name: x",
    "plain: 1",
    "group:",
    "  # -- first line",
    "  #   and its continuation",
    "  inner: [a, b]",
    "  other:",
    "    # -- deep",
    "    deep: {}",
  ].join("\n");

  it("reads each `# --` comment as the doc of the key below it, with its dotted path and default", () => {
    expect(documentedValues(sample)).toEqual([
      { key: "name", default: "x", description: "the name" },
      { key: "group.inner", default: ["a", "b"], description: "first line and its continuation" },
      { key: "group.other.deep", default: {}, description: "deep" },
    ]);
  });

  it("lists the leaves, so an undocumented key is noticed", () => {
    expect(leafKeys(yaml.load(sample))).toEqual(["name", "plain", "group.inner", "group.other.deep"]);
  });

  it("escapes pipes in the table", () => {
    expect(valuesTable([{ key: "k", default: "a|b", description: "x | y" }])).toContain('| `k` | `"a\\|b"` | x \\| y |');
  });
});
