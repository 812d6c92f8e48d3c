import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { podMutatingHandler } from "../../../webhook/admission/pod.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, writerOver } from "../lifecycle/fixtures.js";
import { podCreateReview, podWebhookOptions } from "./fixtures/pod-webhook.js";

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
    const answer = await podMutatingHandler(podWebhookOptions(store, w, w.clock, w.log, { synced: () => false }))(podCreateReview);
    expect(answer.response?.allowed).toBe(false);
    expect(answer.response?.status?.code).toBe(503);
    expect((answer.response?.status as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(heldIn(store, "p")).toEqual([]);
  });
});
