import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { podMutatingHandler, type ReleaseWait } from "../../../webhook/admission/pod.js";
import { FakeClock } from "../../fakes/clock.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "../lifecycle/fixtures.js";
import { podCreateReview, podWebhookOptions } from "./fixtures/pod-webhook.js";

/** A clock whose sleeps advance it, and which runs `during` (once) at the sleep it is set for. */
class ScriptedClock extends FakeClock {
  during?: { atSleep: number; run: () => Promise<void> };

  override async sleep(ms: number): Promise<void> {
    await super.sleep(ms);
    if (this.during && this.slept.length === this.during.atSleep) await this.during.run();
  }
}

/**
 * A Pod whose pool is full while one of its addresses is on its way back (its Pod gone, the
 * binder about to release it) waits for that address instead of being refused at once.
 */
describe("the Pod mutating webhook at a full pool", () => {
  const setup = async (coming: boolean) => {
    const store = new FakeStore<SpiderIPPool>();
    store.seed(pool("p", { ips: ["10.6.0.10"] }));
    const clock = new ScriptedClock();
    const w = writerOver(store, { clock });
    await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("old", clock) });
    const free = (): boolean => {
      const s = store.peek("p")?.status;
      return (s?.allocatedIPCount ?? 0) < (s?.totalIPCount ?? 0);
    };
    const releases: ReleaseWait = { coming: () => coming, free, waitMs: 3_000, clock };
    const admit = () => podMutatingHandler(podWebhookOptions(store, w, clock, w.log, { releases }))(podCreateReview);
    return { store, clock, writer: w.writer, admit };
  };

  it("admits the Pod with the address released while it waited", async () => {
    const t = await setup(true);
    t.clock.during = { atSleep: 3, run: async () => void (await t.writer.submit("p", { kind: "release-reservation", reservation: "old" })) };
    const answer = await t.admit();
    expect(answer.response?.allowed).toBe(true);
    expect(heldIn(t.store, "p")).toEqual(["10.6.0.10"]);
    expect(t.clock.slept.length).toBeGreaterThanOrEqual(3);
  });

  it("refuses at once when nothing is on its way back", async () => {
    const t = await setup(false);
    const answer = await t.admit();
    expect(answer.response?.allowed).toBe(false);
    expect(answer.response?.status?.reason).toBe("POOL_EXHAUSTED");
    expect(t.clock.slept).toEqual([]);
  });

  it("refuses after its wait when the address does not come back, holding nothing new", async () => {
    const t = await setup(true);
    const before = t.clock.now();
    const answer = await t.admit();
    expect(answer.response?.allowed).toBe(false);
    expect(answer.response?.status?.message).toContain("cannot get an address");
    expect(t.clock.now() - before).toBeGreaterThanOrEqual(3_000);
    expect(heldIn(t.store, "p")).toEqual(["10.6.0.10"]);
  });
});
