import { describe, expect, it } from "@jest/globals";
import { DEFAULT_CLUSTER_CONFIG, DEFAULT_GC_SETTINGS, effectiveGc, parseClusterConfig } from "../../ipam/kinds/cluster-config.js";
import { heldByAnother, observe } from "../../k8s/leader.js";
import { ConfigError, parseControllerConfig } from "../../webhook/config.js";

describe("GC settings", () => {
  it("reads Spiderpool's GC keys from conf.yml, and they win over the controller's settings key by key", () => {
    const { config, errors } = parseClusterConfig({ enableGCIP: false, enableGCStatelessTerminatingPodOnNotReadyNode: false, gcIPInterval: 120, gcAdditionalGraceDelay: 7 });
    expect(errors).toEqual([]);
    expect(effectiveGc(DEFAULT_GC_SETTINGS, config)).toEqual({ enabled: false, terminatingOnReadyNode: true, terminatingOnNotReadyNode: false, intervalMs: 120_000, additionalGraceDelayMs: 7000 });
    expect(effectiveGc({ ...DEFAULT_GC_SETTINGS, additionalGraceDelayMs: 1000 }, DEFAULT_CLUSTER_CONFIG)).toEqual({ ...DEFAULT_GC_SETTINGS, additionalGraceDelayMs: 1000 });
  });

  it("refuses wrong types with a sentence naming the key", () => {
    expect(parseClusterConfig({ enableGCIP: "yes", gcIPInterval: 0, gcAdditionalGraceDelay: -1 }).errors).toEqual([
      'enableGCIP is "yes"; use true or false',
      "gcAdditionalGraceDelay is -1; use a whole number of seconds >= 0",
      "gcIPInterval is 0; use a whole number of seconds >= 1",
    ]);
  });

  it("takes the controller's GC and leader settings from Spiderpool's environment names, and orders the leader timings", () => {
    const c = parseControllerConfig({ SPIDERPOOL_ADMISSION_CLIENT_AUTH: "false", SPIDERPOOL_GC_IP_ENABLED: "false", SPIDERPOOL_GC_DEFAULT_INTERVAL_DURATION: "30", SPIDERPOOL_GC_ADDITIONAL_GRACE_DELAY: "5" }, []);
    expect(c.gc).toEqual({ enabled: false, intervalMs: 30_000, additionalGraceDelayMs: 5000, terminatingOnReadyNode: true, terminatingOnNotReadyNode: true });
    expect(c.leader).toEqual({ leaseMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
    expect(() => parseControllerConfig({ SPIDERPOOL_LEADER_RENEW_DEADLINE_MS: "15000" }, [])).toThrow(ConfigError);
    expect(() => parseControllerConfig({ SPIDERPOOL_LEADER_RETRY_PERIOD_MS: "10000" }, [])).toThrow(/must be less than --leader-renew-deadline-ms/);
  });
});

describe("leader election's judgement of a Lease", () => {
  const lease = (holder: string, rv: string) => ({ metadata: { resourceVersion: rv }, spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date(0) } });

  it("dates a Lease by when it was seen to change, not by its renewTime", () => {
    const first = observe(undefined, lease("a", "1"), 1000, 15_000);
    expect(first).toEqual({ holder: "a", version: "1", leaseMs: 15_000, seenAt: 1000 });
    // Read again unchanged: still dated when first seen; renewTime (the epoch here) plays no part.
    expect(observe(first, lease("a", "1"), 9000, 15_000)).toBe(first);
    expect(heldByAnother(first, "b", 15_999)).toBe(true);
    expect(heldByAnother(first, "b", 16_000)).toBe(false);
    // Renewed: seen again, held again.
    expect(heldByAnother(observe(first, lease("a", "2"), 16_000, 15_000), "b", 20_000)).toBe(true);
  });

  it("is never held by another when it names this replica or nobody", () => {
    expect(heldByAnother(observe(undefined, lease("b", "1"), 0, 15_000), "b", 1)).toBe(false);
    expect(heldByAnother(observe(undefined, lease("", "1"), 0, 15_000), "b", 1)).toBe(false);
  });
});
