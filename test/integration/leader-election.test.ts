import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { setTimeout as sleep } from "node:timers/promises";
import { LeaderElector, MicroTime } from "../../k8s/leader.js";
import { createNamespace, waitFor } from "../../local-cluster/kube.js";
import { HoldingKubeConfig } from "../harness/held-request.js";
import { testKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

/** When each replica believed it led: [start, end) in this process's monotonic time. */
class Intervals {
  readonly spans: { who: string; from: number; to: number }[] = [];
  private readonly open = new Map<string, number>();
  callbacks(who: string): { onStart: () => void; onStop: () => void } {
    return {
      onStart: () => this.open.set(who, performance.now()),
      onStop: () => {
        this.spans.push({ who, from: this.open.get(who) ?? 0, to: performance.now() });
        this.open.delete(who);
      },
    };
  }
  leading(who: string): boolean {
    return this.open.has(who);
  }
  /** Every span, the open ones ending now. */
  all(): { who: string; from: number; to: number }[] {
    return [...this.spans, ...[...this.open].map(([who, from]) => ({ who, from, to: performance.now() }))];
  }
  /** Two replicas' spans that overlap, if any. */
  overlaps(): string[] {
    const all = this.all();
    const out: string[] = [];
    for (const a of all) for (const b of all) if (a.who < b.who && a.from < b.to && b.from < a.to) out.push(`${a.who} [${a.from.toFixed(0)}, ${a.to.toFixed(0)}) and ${b.who} [${b.from.toFixed(0)}, ${b.to.toFixed(0)})`);
    return out;
  }
}

const LEASE_SECONDS = 3;
const log = pino({ level: "silent" });

/**
 * Leader election against the real apiserver, two replicas: a replica judges another's
 * lease by when it saw it change (never by comparing the holder's renewTime with its own
 * clock), and gives up leading before anyone else may take over.
 */
describe("leader election", () => {
  let kc: KubeConfig;
  let ns: string;
  const electors: LeaderElector[] = [];
  let unblock: () => void = () => undefined;
  const elector = (k: KubeConfig, name: string, identity: string, iv: Intervals): LeaderElector => {
    const e = new LeaderElector(k, { namespace: ns, name, identity, leaseDurationSeconds: LEASE_SECONDS, renewEveryMs: 500 }, iv.callbacks(identity), log);
    electors.push(e);
    return e;
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    ns = await createNamespace(kc, "leader");
  });
  afterAll(async () => {
    unblock();
    for (const e of electors) e.abandon();
  });

  it("fails over when the leader's renewals hang, and never lets two replicas lead at once", async () => {
    const iv = new Intervals();
    const held = HoldingKubeConfig.of(testClusterState().kubeconfig);
    const a = elector(held, "failover", "a", iv);
    a.start();
    await waitFor("a leading", () => Promise.resolve(iv.leading("a")), 20_000, 50);
    const b = elector(kc, "failover", "b", iv);
    b.start();
    await sleep(LEASE_SECONDS * 1000);
    expect(iv.leading("b")).toBe(false);
    // From now on a's requests for the Lease never come back (a partition, hung connections).
    const partition = new Promise<void>((r) => (unblock = r));
    const holdEvery = (): void => {
      void held.holdNext((r) => r.getUrl().includes("/leases"), async () => {
        holdEvery();
        await partition;
      });
    };
    holdEvery();
    await waitFor("b leading", () => Promise.resolve(iv.leading("b")), 30_000, 50);
    expect(iv.leading("a")).toBe(false);
    expect(iv.overlaps()).toEqual([]);
  });

  it("does not take over a lease another replica keeps renewing, however far behind its clock is", async () => {
    const iv = new Intervals();
    const leases = kc.makeApiClient(CoordinationV1Api);
    // The other replica's clock is a minute behind: every renewTime it writes looks long expired here.
    const behind = () => new MicroTime(Date.now() - 60_000);
    await leases.createNamespacedLease({ namespace: ns, body: { metadata: { name: "skew" }, spec: { holderIdentity: "other", leaseDurationSeconds: LEASE_SECONDS, acquireTime: behind(), renewTime: behind() } } });
    let renewing = true;
    const renew = (async () => {
      while (renewing) {
        const lease = await leases.readNamespacedLease({ name: "skew", namespace: ns });
        if (lease.spec?.holderIdentity !== "other") return;
        lease.spec.renewTime = behind();
        await leases.replaceNamespacedLease({ name: "skew", namespace: ns, body: lease }).catch(() => undefined);
        await sleep(500);
      }
    })();
    const b = elector(kc, "skew", "b", iv);
    b.start();
    await sleep(3 * LEASE_SECONDS * 1000);
    renewing = false;
    await renew;
    expect(iv.all().filter((s) => s.who === "b")).toEqual([]);
    // Once the other replica stops renewing, b takes over after a lease duration of silence.
    await waitFor("b leading after the other stopped", () => Promise.resolve(iv.leading("b")), 20_000, 50);
  });
});
