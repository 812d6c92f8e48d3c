import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { binaryVersions, cachedPath, findBinary } from "../../local-cluster/binaries.js";

function fakeBinary(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
}

describe("findBinary", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "binaries-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("prefers KUBEBUILDER_ASSETS, then PATH, then the versioned cache", () => {
    const env = { KUBEBUILDER_ASSETS: join(root, "assets"), PATH: join(root, "path"), SPIDERPOOL_CACHE: join(root, "cache") };
    const cached = cachedPath("kube-apiserver", env);
    fakeBinary(cached);
    expect(findBinary("kube-apiserver", env)).toBe(cached);
    fakeBinary(join(root, "path", "kube-apiserver"));
    expect(findBinary("kube-apiserver", env)).toBe(join(root, "path", "kube-apiserver"));
    fakeBinary(join(root, "assets", "kube-apiserver"));
    expect(findBinary("kube-apiserver", env)).toBe(join(root, "assets", "kube-apiserver"));
  });

  it("keys the cache by the version in scripts/versions.env", () => {
    const env = { SPIDERPOOL_CACHE: "/c" };
    expect(cachedPath("kubectl", env)).toBe(`/c/kubernetes-${binaryVersions().K8S_VERSION}/kubectl`);
    expect(cachedPath("etcd", env)).toBe(`/c/etcd-${binaryVersions().ETCD_VERSION}/etcd`);
  });

  it("says how to build a missing binary", () => {
    const env = { PATH: join(root, "empty"), SPIDERPOOL_CACHE: join(root, "cache") };
    expect(() => findBinary("kwok", env)).toThrow(/kwok was not found .* Build it with: bash scripts\/build-binaries.sh/);
  });
});
