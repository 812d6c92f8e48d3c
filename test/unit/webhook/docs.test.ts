import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../../../webhook/config.js";
import { REPO_ROOT } from "../../../local-cluster/binaries.js";

describe("docs/reference/configuration.md", () => {
  const doc = readFileSync(join(REPO_ROOT, "docs/reference/configuration.md"), "utf8");
  it.each(Object.values(SETTINGS).map((s) => [s.flag, s.env]))("documents --%s / %s", (flag, env) => {
    expect(doc).toMatch(new RegExp(`\\| \`--${flag}\` \\| \`${env}\` \\|`));
  });
});
