import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Product code, scripts and benchmarks never reach into test/: what they share with the
// tests lives in local-cluster/. A relative path that climbs to the root and enters test/
// is how such an import is spelled from any folder but test/ itself.
const noTestImports = { regex: "^(\\./|(\\.\\./)+)test/", message: "Only test/ imports from test/; move what you need to local-cluster/ (or another product folder)." };

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "charts/", "*.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // Small functions with one job: past these limits, split by job rather than raise them.
      complexity: ["error", 15],
      "max-depth": ["error", 4],
      "max-params": ["error", 5],
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Plain JavaScript (scripts, jest's setup hooks): outside the TypeScript project, so no
    // type-aware rules.
    files: ["**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, "no-undef": "off" },
  },
  {
    files: ["**/*.ts", "**/*.mjs"],
    ignores: ["test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noTestImports] }] },
  },
  {
    // Test fakes implement async ports with synchronous bodies.
    // A describe() callback holds all of a suite's cases and grows with them, and
    // fakes and fixtures mirror the signatures of what they stand in for: the length
    // and arity limits are for product code. complexity and max-depth apply here too.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/require-await": "off",
      "max-params": "off",
      "max-lines-per-function": "off",
    },
  },
  {
    // The pure core must not do I/O: keep adapters out of it.
    files: ["ipam/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["@kubernetes/client-node", "express", "pino", "prom-client", "node:fs", "fs", "node:net", "net", "node:http", "node:https", "node:child_process", "child_process"], message: "ipam/ is the pure core: no I/O imports." },
          { group: ["../webhook/*", "../agent/*", "../cni/*", "../certs/*"], message: "ipam/ must not depend on adapters." },
          // Repeated here: this rule's options replace, not extend, the ones above.
          noTestImports,
        ],
      }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "ipam/ takes configuration as arguments." }],
    },
  },
);
