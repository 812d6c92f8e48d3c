// Writes crds/*.yaml and charts/spiderpool/crds/*.yaml from the kind modules in ipam/kinds (npm run gen:crds).
// test/unit/crds.test.ts fails when the committed files are out of step.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CRD_DIRS, crdFiles } from "../local-cluster/crd-files.js";
import { REPO_ROOT } from "../local-cluster/binaries.js";

for (const dir of CRD_DIRS) {
  for (const [file, text] of crdFiles()) {
    writeFileSync(join(REPO_ROOT, dir, file), text);
    console.log(`wrote ${dir}/${file}`);
  }
}
