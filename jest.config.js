// Four tiers. Jest runs a project's globalSetup only when a test of that
// project is selected, so `unit` and `build` start no cluster; `integration` brings up
// etcd and kube-apiserver, `e2e` adds the rest to the same control plane (one per run).
// `npm test` runs e2e in a jest run of its own, so integration tests never meet a
// kube-controller-manager (package.json test:all).
const tsJest = ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: { ignoreCodes: [151001] } }];
const common = {
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": tsJest },
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testEnvironment: "node",
};

// SPIDERPOOL_TIERS=unit,integration restricts the run to those projects (npm run test:unit
// and friends set it), which leaves jest's positional arguments free for path filters.
const tiers = process.env.SPIDERPOOL_TIERS?.split(",");

export default {
  projects: [
    // No process may start in the unit tier: child_process is replaced by a module whose
    // functions throw, naming the tier the test belongs in.
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"],
      moduleNameMapper: { ...common.moduleNameMapper, "^(node:)?child_process$": "<rootDir>/test/harness/no-processes.cjs" } },
    // Tests that run programs (the bundler, the built plugin, shell scripts) and need no cluster.
    { ...common, displayName: "build", testMatch: ["<rootDir>/test/build/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/harness/slow-tests.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/harness/slow-tests.ts"],
      globalSetup: "<rootDir>/test/harness/setup-integration.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/harness/slow-tests.ts"],
      globalSetup: "<rootDir>/test/harness/setup-e2e.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
  ].filter((p) => !tiers || tiers.includes(p.displayName)),
};
