// Writes crds/*.yaml from the kind modules in ipam/kinds (npm run gen:crds).
// test/unit/crds.test.ts fails when the committed files are out of step.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdFiles } from "../local-cluster/crd-files.js";
import { REPO_ROOT } from "../local-cluster/binaries.js";

for (const [file, text] of crdFiles()) {
  writeFileSync(join(REPO_ROOT, "crds", file), text);
  console.log(`wrote crds/${file}`);
}
