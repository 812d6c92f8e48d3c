import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { podMutatingHandler, type PodWebhookOptions } from "../../../webhook/admission/pod.js";
import { DryRunAllocator } from "../../../ipam/lifecycle/dry-run.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reserveContext, writerOver } from "../lifecycle/fixtures.js";

/**
 * Issue 13: the Pod webhook answered before its caches were synced, reserving from a
 * half-filled view (no SpiderReservedIP known yet, pools missing). Until they are synced it
 * answers a retryable error and reserves nothing.
 */
describe("the Pod mutating webhook before its caches are synced", () => {
  it("answers 503 with a retry delay and reserves nothing", async () => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p"));
    const w = writerOver(store);
    const { allocator: _unused, ...reserve } = reserveContext(store, w.writer, w.clock);
    const options = {
      reserve,
      allocator: w.writer,
      dryRunAllocator: () => new DryRunAllocator({ cached: (n: string) => store.peek(n), reserved: reserve.reservedIPs, clock: w.clock, coolDownMs: 0 }),
      excludedNamespaces: new Set<string>(),
      systemUsers: new Set<string>(),
      log: w.log,
      observe: () => undefined,
      synced: () => false,
    } as PodWebhookOptions;
    const handler = podMutatingHandler(options);
    const answer = await handler({
      uid: "u1",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "app",
      operation: "CREATE",
      userInfo: { username: "someone" },
      object: { metadata: { name: "web", namespace: "app", annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' } }, spec: { containers: [] } },
    });
    expect(answer.response?.allowed).toBe(false);
    expect(answer.response?.status?.code).toBe(503);
    expect((answer.response?.status as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(heldIn(store, "p")).toEqual([]);
  });
});
