import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { CRD_DIRS, crdFiles } from "../../local-cluster/crd-files.js";

describe.each(CRD_DIRS)("%s/", (dir) => {
  it.each(crdFiles())("%s is what `npm run gen:crds` writes from ipam/kinds", (file, text) => {
    const committed = readFileSync(join(REPO_ROOT, dir, file), "utf8");
    expect(committed).toBe(text);
  });

  it("holds no CRD that ipam/kinds no longer defines", () => {
    const files = readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith(".yaml"));
    expect(files.sort()).toEqual(crdFiles().map(([f]) => f).sort());
  });
});
