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

export default {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"], testTimeout: 120000,
      globalSetup: "<rootDir>/test/harness/setup-integration.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"], testTimeout: 300000,
      globalSetup: "<rootDir>/test/harness/setup-e2e.mjs", globalTeardown: "<rootDir>/test/harness/teardown.mjs" },
  ],
};
