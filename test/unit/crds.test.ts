import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../local-cluster/binaries.js";
import { crdFiles } from "../../local-cluster/crd-files.js";

describe("crds/", () => {
  it.each(crdFiles())("%s is what `npm run gen:crds` writes from ipam/kinds", (file, text) => {
    const committed = readFileSync(join(REPO_ROOT, "crds", file), "utf8");
    expect(committed).toBe(text);
  });
});
