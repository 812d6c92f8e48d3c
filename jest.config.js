// Three tiers, one jest run. Jest runs a project's globalSetup only when a test of that
// project is selected, so `unit` alone starts nothing; `integration` brings up etcd and
// kube-apiserver, `e2e` adds the rest to the same control plane (one per run).
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
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/harness/slow-tests.ts"],
      globalSetup: "<rootDir>/test/harness/setup-integration.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/harness/slow-tests.ts"],
      globalSetup: "<rootDir>/test/harness/setup-e2e.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
  ].filter((p) => !tiers || tiers.includes(p.displayName)),
};
