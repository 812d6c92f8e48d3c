import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { REPO_ROOT } from "../../../local-cluster/binaries.js";
import { DEFAULT_GC_SETTINGS, effectiveGc, parseClusterConfig } from "../../../ipam/kinds/cluster-config.js";

const root = REPO_ROOT;

describe("docs/reclamation.md", () => {
  it("its spiderpool-conf example parses, every GC key known", () => {
    const cm = yaml.load(readFileSync(join(root, "docs/examples/reclamation-conf.yaml"), "utf8")) as { data: Record<string, string> };
    const { config, errors, ignored } = parseClusterConfig(yaml.load(cm.data["conf.yml"] ?? ""));
    expect({ errors, ignored }).toEqual({ errors: [], ignored: [] });
    expect(effectiveGc(DEFAULT_GC_SETTINGS, config)).toEqual({ enabled: true, terminatingOnReadyNode: true, terminatingOnNotReadyNode: true, additionalGraceDelayMs: 5000, intervalMs: 600_000 });
  });

  it("names every release reason, every GC key and every spiderpool_ip_gc_* metric", () => {
    const page = readFileSync(join(root, "docs/reclamation.md"), "utf8");
    const metrics = readFileSync(join(root, "webhook/metrics.ts"), "utf8").match(/spiderpool_ip_gc_[a-z_]+/g) ?? [];
    const reasons = readFileSync(join(root, "ipam/lifecycle/release-rules.ts"), "utf8").match(/"(pod|node)-[a-z-]+"/g) ?? [];
    for (const word of [...new Set([...metrics, ...reasons.map((r) => r.slice(1, -1)), "enableGCIP", "enableGCStatelessTerminatingPodOnReadyNode", "enableGCStatelessTerminatingPodOnNotReadyNode", "gcIPInterval", "gcAdditionalGraceDelay", "reservation-expired", "orphaned"])]) {
      expect({ word, inPage: page.includes(word) }).toEqual({ word, inPage: true });
    }
  });
});
