import { describe, expect, it } from "@jest/globals";
import { formatAssignedIPs, type AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { Workload } from "../../../ipam/kinds/application.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { DEFAULT_GC_SETTINGS } from "../../../ipam/kinds/cluster-config.js";
import type { NodeLike, PodLike } from "../../../ipam/kinds/pod.js";
import { Binder, type BinderDeps } from "../../../ipam/lifecycle/binder.js";
import { reserveAddresses } from "../../../ipam/lifecycle/reserve.js";
import type { Cache, EventRecorder } from "../../../ipam/ports.js";
import { FakeStore, listCache } from "../../fakes/store.js";
import { heldIn, pool, reserveContext, writerOver } from "./fixtures.js";

interface Recorded {
  type: string;
  reason: string;
  message: string;
}

/** The binder's live reads of Pods from now on, by key (they answer from the test's Pods). */
function liveReadsOf(t: Awaited<ReturnType<typeof setup>>): string[] {
  const lookups: string[] = [];
  t.deps.livePod = (ns, name) => (lookups.push(`${ns}/${name}`), Promise.resolve(t.pods.get(name, ns)));
  return lookups;
}

/** Two Pods reserved and bound, then changed by `change` and reconciled again; returns the binder's live reads of Pods. */
async function bindTwoThen(t: Awaited<ReturnType<typeof setup>>, names: [string, string], change: (first: PodLike, second: PodLike) => void): Promise<string[]> {
  const lookups = liveReadsOf(t);
  const pods = [t.addPod(names[0], await t.reserve("r1")), t.addPod(names[1], await t.reserve("r2"))] as const;
  for (const name of names) await t.binder.reconcile(`app/${name}`);
  change(pods[0], pods[1]);
  for (const name of names) await t.binder.reconcile(`app/${name}`);
  return lookups;
}

/** Another writer acts on the endpoint `key` once, just before the binder's first endpoint replace lands. */
function beforeFirstReplace(t: Awaited<ReturnType<typeof setup>>, key: string, act: (ep: SpiderEndpoint) => void): void {
  const [namespace = "", name = ""] = key.split("/");
  let ran = false;
  t.endpoints.beforeWrite = (op) => {
    if (op !== "replace" || ran) return;
    ran = true;
    const ep = t.endpoints.peek(name, namespace);
    if (ep) act(ep);
  };
}

/** A reservation made the way admission makes it, a Pod carrying it, and a binder over fakes. */
async function setup(poolCache?: (store: FakeStore<SpiderIPPool>) => Cache<SpiderIPPool>) {
  const pools = new FakeStore<SpiderIPPool>();
  pools.seed(pool("p"));
  const endpoints = new FakeStore<SpiderEndpoint>({ statusSubresource: false });
  const pods = listCache<PodLike>();
  const events: Recorded[] = [];
  const event: EventRecorder = (_s, type, reason, message) => {
    events.push({ type, reason, message });
    return Promise.resolve();
  };
  const poolsCached = poolCache ? poolCache(pools) : pools.cache();
  // The writer reads the same cache as the binder, as in the controller (its own writes aside).
  const w = writerOver(pools, { cached: (n) => poolsCached.get(n) });
  const statefulSets = listCache<Workload>([{ metadata: { name: "db", namespace: "app", uid: "sts-uid" }, spec: { replicas: 2 } }]);
  let sticky = true;
  const reserve = async (id: string) =>
    (await reserveAddresses({ namespace: "app", labels: {}, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' } }, id, reserveContext(pools, w.writer, w.clock))).assigned;
  const nodes = listCache<NodeLike & { metadata: { name: string } }>([{ metadata: { name: "n1" }, status: { conditions: [{ type: "Ready", status: "True" }] } }]);
  const releases: [string, number][] = [];
  const deps: BinderDeps = {
    pods,
    nodes,
    livePod: (ns, name) => Promise.resolve(pods.get(name, ns)),
    liveNode: (name) => Promise.resolve(nodes.get(name)),
    nodeDeleted: (name) => !nodes.get(name),
    gc: () => DEFAULT_GC_SETTINGS,
    clock: w.clock,
    endpoints: endpoints.cache(),
    pools: poolsCached,
    poolStore: pools,
    endpointStore: endpoints,
    allocator: w.writer,
    event,
    log: w.log,
    statefulSets,
    statefulSetsSticky: () => sticky,
    onRelease: (reason, released) => releases.push([reason, released.length]),
  };
  const binder = new Binder(deps);
  const addPod = (name: string, assigned: AssignedIPs, uid = `uid-${name}`): PodLike => {
    const p: PodLike = { metadata: { name, namespace: "app", uid, annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) } }, spec: { nodeName: "n1" } };
    pods.items.push(p);
    return p;
  };
  const stickOff = (): void => {
    sticky = false;
  };
  return { pools, endpoints, pods, nodes, events, binder, deps, releases, reserve, addPod, log: w.log, clock: w.clock, statefulSets, stickOff };
}

describe("Binder over fake ports", () => {
  it("records a Pod's reservation in its endpoint and binds it in the pool", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    const ep = t.endpoints.peek("web-0", "app");
    expect(ep?.status?.current).toMatchObject({ uid: "uid-web-0", node: "n1", reservation: "r1", ips: assigned.ips });
    expect(t.events.map((e) => e.reason)).toEqual(["IPReserved"]);
    // Bound: no longer pending, so the expired-reservation collector will not take it.
    expect(t.pools.peek("p")?.status?.allocations).not.toContain("r1");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
  });

  it("writes a new Pod's endpoint once, its record included, and a re-bound name's once", async () => {
    const t = await setup();
    const sts = [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true }];
    t.addPod("db-0", await t.reserve("r1")).metadata.ownerReferences = sts;
    await t.binder.reconcile("app/db-0");
    expect(t.endpoints.writes).toEqual([{ op: "create", key: "app/db-0" }]);
    expect(t.endpoints.peek("db-0", "app")?.status?.current).toMatchObject({ uid: "uid-db-0", reservation: "r1" });
    // The StatefulSet's next Pod of that name, with another reservation: its kept endpoint is rewritten in one request.
    t.pods.items.length = 0;
    t.addPod("db-0", await t.reserve("r2"), "uid-db-0-again").metadata.ownerReferences = sts;
    t.endpoints.writes.length = 0;
    await t.binder.reconcile("app/db-0");
    expect(t.endpoints.writes).toEqual([{ op: "replace", key: "app/db-0" }]);
    expect(t.endpoints.peek("db-0", "app")?.status?.current).toMatchObject({ uid: "uid-db-0-again", reservation: "r2" });
  });

  describe("a Pod the scheduler has not placed yet", () => {
    /** A binder that waits 3 s for the scheduler, and an unplaced Pod web-0 with reservation r1. */
    async function unplaced() {
      const t = await setup();
      t.deps.bindWaitForNodeMs = 3000;
      const pod = t.addPod("web-0", await t.reserve("r1"));
      pod.spec = {};
      return { ...t, pod };
    }

    it("is bound once placed, its endpoint written once with its node", async () => {
      const t = await unplaced();
      const { pod } = t;
      t.clock.advance(1000);
      expect(await t.binder.reconcile("app/web-0")).toEqual({ requeueAfterMs: 3000 });
      expect(t.endpoints.writes).toEqual([]);
      t.clock.advance(1000);
      expect(await t.binder.reconcile("app/web-0")).toEqual({ requeueAfterMs: 2000 });
      pod.spec = { nodeName: "n1" };
      expect(await t.binder.reconcile("app/web-0")).toEqual({});
      expect(t.endpoints.writes).toEqual([{ op: "create", key: "app/web-0" }]);
      expect(t.endpoints.peek("web-0", "app")?.status?.current).toMatchObject({ uid: "uid-web-0", node: "n1", reservation: "r1" });
      expect(t.pools.peek("p")?.status?.allocations).not.toContain("r1");
    });

    it("is bound without a node once the wait is over, and its node recorded when it comes", async () => {
      const t = await unplaced();
      const { pod } = t;
      expect(await t.binder.reconcile("app/web-0")).toEqual({ requeueAfterMs: 3000 });
      t.clock.advance(3000);
      await t.binder.reconcile("app/web-0");
      expect(t.endpoints.peek("web-0", "app")?.status?.current?.node).toBeUndefined();
      expect(t.pools.peek("p")?.status?.allocations).not.toContain("r1");
      pod.spec = { nodeName: "n1" };
      await t.binder.reconcile("app/web-0");
      expect(t.endpoints.peek("web-0", "app")?.status?.current?.node).toBe("n1");
      expect(t.endpoints.writes.map((w) => w.op)).toEqual(["create", "replace"]);
    });

    it("is bound at once when its reservation would expire within twice the wait", async () => {
      const t = await unplaced();
      // The fixture's reservations live 60 s: 5 s left.
      t.clock.advance(55_000);
      expect(await t.binder.reconcile("app/web-0")).toEqual({});
      expect(t.endpoints.peek("web-0", "app")?.status?.current?.reservation).toBe("r1");
      expect(t.pools.peek("p")?.status?.allocations).not.toContain("r1");
    });

    it("waits afresh for another Pod of the same name", async () => {
      const t = await setup();
      t.deps.bindWaitForNodeMs = 3000;
      t.addPod("web-0", await t.reserve("r1")).spec = {};
      await t.binder.reconcile("app/web-0");
      t.clock.advance(2500);
      t.pods.items.length = 0;
      await t.binder.reconcile("app/web-0");
      t.addPod("web-0", await t.reserve("r2"), "uid-web-0-again").spec = {};
      expect(await t.binder.reconcile("app/web-0")).toEqual({ requeueAfterMs: 3000 });
    });
  });

  it("finishes a bind whose pool write failed after the endpoint was written", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    const writer = t.deps.allocator;
    let failures = 1;
    t.deps.allocator = {
      submit: (p, request) => (request.kind === "bind" && failures-- > 0 ? Promise.reject(new Error("the apiserver went away")) : writer.submit(p, request)),
      latest: (p) => writer.latest?.(p),
    };
    await expect(t.binder.reconcile("app/web-0")).rejects.toThrow("the apiserver went away");
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.reservation).toBe("r1");
    expect(t.pools.peek("p")?.status?.allocations).toContain("r1");
    // The retry finds the endpoint written: the bind and its Event must still happen.
    await t.binder.reconcile("app/web-0");
    expect(t.pools.peek("p")?.status?.allocations).not.toContain("r1");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    expect(t.events.map((e) => e.reason)).toEqual(["IPReserved"]);
  });

  it("refuses an annotation whose token the pool does not hold", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    const forged: AssignedIPs = { ...assigned, ips: assigned.ips.map((n) => ({ ...n, ipv4Token: (n.ipv4Token ?? 0) + 7 })) };
    t.addPod("web-0", forged);
    await t.binder.reconcile("app/web-0");
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
    expect(t.events).toEqual([expect.objectContaining({ type: "Warning", reason: "AssignedIPsMismatch", message: expect.stringContaining("does not hold 10.6.0.10/24 under token") })]);
    expect(t.log.at("warn").map((l) => l.message)).toEqual(["annotation does not match the pool record"]);
  });

  it("refuses a copied annotation while its pool cache still shows the reservation pending", async () => {
    // The informer has not yet seen the bind the binder itself just wrote.
    const cached: { pool?: SpiderIPPool } = {};
    const t = await setup((store) => ({ get: (n) => (n === "p" ? cached.pool : store.peek(n)), list: () => (cached.pool ? [cached.pool] : []) }));
    const assigned = await t.reserve("r1");
    cached.pool = t.pools.peek("p");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.addPod("copy", assigned);
    await t.binder.reconcile("app/copy");
    expect(t.endpoints.peek("copy", "app")).toBeUndefined();
    expect(t.events.at(-1)).toMatchObject({ reason: "AssignedIPsMismatch" });
  });

  it("refuses an annotation copied from a Pod that is already bound", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.addPod("copy", assigned);
    await t.binder.reconcile("app/copy");
    expect(t.endpoints.peek("copy", "app")).toBeUndefined();
    expect(t.events.at(-1)).toMatchObject({ reason: "AssignedIPsMismatch", message: expect.stringContaining("is not pending for reservation r1") });
  });

  it("reads the pool live when its cache has not seen the admission's write yet", async () => {
    // The cache keeps the pool as it was before the admission wrote it.
    const cached: { pool?: SpiderIPPool } = {};
    const t = await setup((store) => ({ get: (n) => (n === "p" ? cached.pool : store.peek(n)), list: () => (cached.pool ? [cached.pool] : []) }));
    cached.pool = t.pools.peek("p");
    // The admission ran on another replica: its writer, not the binder's, wrote the reservation.
    const other = writerOver(t.pools);
    const assigned = (await reserveAddresses({ namespace: "app", labels: {}, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["p"]}' } }, "r1", reserveContext(t.pools, other.writer, other.clock))).assigned;
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.reservation).toBe("r1");
    expect(t.pools.reads).toContain("/p");
  });

  it("releases a Pod its informer saw deleted without a live read, and reads live one it only lost", async () => {
    const t = await setup();
    const lookups = liveReadsOf(t);
    const deleted = new Set<string>();
    t.deps.podDeleted = (uid) => deleted.has(uid);
    t.addPod("web-0", await t.reserve("r1"));
    t.addPod("web-1", await t.reserve("r2"));
    await t.binder.reconcile("app/web-0");
    await t.binder.reconcile("app/web-1");
    // web-0's deletion was seen (a deletion is final); web-1 merely left the cache.
    deleted.add("uid-web-0");
    t.pods.items.length = 0;
    await t.binder.reconcile("app/web-0");
    await t.binder.reconcile("app/web-1");
    expect(lookups).toEqual(["app/web-1"]);
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.all()).toEqual([]);
  });

  it("releases a Pod its cache shows finished or terminating past its grace without a live read (final facts of a uid)", async () => {
    const t = await setup();
    const lookups = await bindTwoThen(t, ["job-0", "web-0"], (done, leaving) => {
      done.status = { phase: "Succeeded" };
      leaving.metadata.deletionTimestamp = new Date(t.clock.now() - 1).toISOString();
    });
    expect(lookups).toEqual([]);
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.releases.filter(([, n]) => n > 0)).toEqual([
      ["pod-succeeded", 1],
      ["pod-terminating-ready-node", 1],
    ]);
  });

  it("releases a Pod deleted with no grace left as deleted, not as stuck terminating (one a finalizer holds is), without a live read", async () => {
    const t = await setup();
    // The copy the watch brings of a deletion with no grace (the kubelet's last delete, a forced one).
    const gone = { deletionTimestamp: new Date(t.clock.now()).toISOString(), deletionGracePeriodSeconds: 0 };
    const lookups = await bindTwoThen(t, ["web-0", "web-1"], (forced, held) => {
      Object.assign(forced.metadata, gone);
      Object.assign(held.metadata, gone, { finalizers: ["example.com/hold"] });
    });
    expect(lookups).toEqual([]);
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.releases.filter(([, n]) => n > 0)).toEqual([
      ["pod-deleted", 1],
      ["pod-terminating-ready-node", 1],
    ]);
  });

  it("releases exactly what the endpoint records once the Pod is gone, and lets the endpoint go", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.pods.items.length = 0;
    await t.binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
  });

  it("lets go an endpoint once: its informer's copies of it after the release write nothing and fail nothing", async () => {
    const t = await setup();
    t.addPod("web-0", await t.reserve("r1"));
    await t.binder.reconcile("app/web-0");
    const bound = t.endpoints.peek("web-0", "app");
    if (!bound) throw new Error("not bound");
    t.pods.items.length = 0;
    await t.binder.reconcile("app/web-0");
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
    const writes = t.endpoints.writes.length;
    // The watch brings the binder's own finalizer removal (and, had it come first, the
    // garbage collector's mark) before the deletion: the cache shows the endpoint a while
    // after the apiserver let it go, and the key comes back to the binder each time.
    const copies: SpiderEndpoint[] = [
      { ...bound, metadata: { ...bound.metadata, finalizers: [] } },
      { ...bound, metadata: { ...bound.metadata, deletionTimestamp: new Date(0).toISOString() } },
    ];
    for (const copy of copies) {
      t.deps.endpoints = listCache([copy]);
      await t.binder.reconcile("app/web-0");
    }
    expect(t.endpoints.writes.length).toBe(writes);
    expect(t.releases.filter(([, n]) => n > 0)).toEqual([["pod-deleted", 1]]);
  });

  it("reports a release even when the garbage collector marks the endpoint terminating in the same moment", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.pods.items.length = 0;
    // kube-controller-manager's garbage collector deletes the endpoint of a Pod that is gone:
    // its deletionTimestamp lands just before the binder's finalizer write, which then conflicts.
    beforeFirstReplace(t, "app/web-0", (ep) => void t.endpoints.delete("web-0", "app", { uid: ep.metadata.uid ?? "" }));
    // The lost write is not a failed reconcile: the same record, read again, loses its finalizer.
    await t.binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
    expect(t.releases.filter(([, n]) => n > 0)).toEqual([["pod-deleted", 1]]);
  });

  it("still refuses to let go an endpoint whose record changed under the release (re-bound to another Pod)", async () => {
    const t = await setup();
    t.addPod("web-0", await t.reserve("r1"));
    await t.binder.reconcile("app/web-0");
    t.pods.items.length = 0;
    beforeFirstReplace(t, "app/web-0", (ep) => {
      if (ep.status?.current) void t.endpoints.replace({ ...ep, status: { ...ep.status, current: { ...ep.status.current, uid: "uid-another" } } });
    });
    await expect(t.binder.reconcile("app/web-0")).rejects.toThrow(/resourceVersion/);
    expect(t.endpoints.peek("web-0", "app")?.metadata.finalizers).toEqual(["spiderpool.spidernet.io/release-ips"]);
  });

  /** A StatefulSet Pod bound, then gone: what its endpoint keeps. */
  async function statefulSetPodGone(t: Awaited<ReturnType<typeof setup>>, name: string): Promise<void> {
    const assigned = await t.reserve(`r-${name}`);
    const pod = t.addPod(name, assigned);
    pod.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true }];
    await t.binder.reconcile(`app/${name}`);
    t.pods.items.length = 0;
    await t.binder.reconcile(`app/${name}`);
  }

  it("keeps a StatefulSet Pod's endpoint and addresses when the Pod goes and its ordinal is wanted", async () => {
    const t = await setup();
    await statefulSetPodGone(t, "db-1");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    expect(t.endpoints.peek("db-1", "app")?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", uid: "sts-uid" });
  });

  it("releases a StatefulSet Pod's addresses when a scale-down removed its ordinal", async () => {
    const t = await setup();
    await statefulSetPodGone(t, "db-2");
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.peek("db-2", "app")).toBeUndefined();
  });

  it("releases them when the StatefulSet is gone or is another one of the same name", async () => {
    const t = await setup();
    await statefulSetPodGone(t, "db-0");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    t.statefulSets.items[0] = { metadata: { name: "db", namespace: "app", uid: "another-uid" }, spec: { replicas: 2 } };
    await t.binder.reconcile("app/db-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
  });

  it("with enableStatefulSet off, owns the endpoint by the Pod and releases on deletion", async () => {
    const t = await setup();
    t.stickOff();
    const assigned = await t.reserve("r-db-0");
    t.addPod("db-0", assigned).metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true }];
    await t.binder.reconcile("app/db-0");
    expect(t.endpoints.peek("db-0", "app")?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Pod", uid: "uid-db-0" });
    t.pods.items.length = 0;
    await t.binder.reconcile("app/db-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
  });

  it("re-reads the owner live before releasing: a Pod the cache lost but the apiserver has keeps its address", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    const pod = t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    // The cache lost the Pod (a stale watch); the binder asks the apiserver, which still has it.
    const live = new Map([["app/web-0", pod]]);
    const binder = new Binder({ ...t.deps, pods: listCache<PodLike>(), livePod: (ns, name) => Promise.resolve(live.get(`${ns}/${name}`)) });
    await binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    // A Pod of that name with another uid is not the owner: the address goes.
    live.set("app/web-0", { ...pod, metadata: { ...pod.metadata, uid: "someone-else" } });
    await binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.events.at(-1)).toMatchObject({ reason: "IPReleased", message: "10.6.0.10/24 (pool p) released: pod-deleted" });
  });

  it("asks to look again when a terminating Pod's grace period ends, and releases it then", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    const pod = t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    pod.metadata.deletionTimestamp = new Date(t.clock.now() + 30_000).toISOString();
    expect(await t.binder.reconcile("app/web-0")).toEqual({ requeueAfterMs: 30_000 });
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
    t.clock.advance(30_000);
    expect(await t.binder.reconcile("app/web-0")).toEqual({});
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.releases).toEqual([["pod-terminating-ready-node", 1]]);
  });

  it("binds a Pod bound to a node that never existed (no deletion seen)", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    const binder = new Binder({ ...t.deps, nodes: listCache(), liveNode: () => Promise.resolve(undefined), nodeDeleted: () => false });
    await binder.reconcile("app/web-0");
    expect(t.endpoints.peek("web-0", "app")?.status?.current?.uid).toBe("uid-web-0");
  });

  it("releases the addresses of a Pod whose node is gone (confirmed live), and does not bind it again", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.nodes.items.length = 0;
    await t.binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual([]);
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
    await t.binder.reconcile("app/web-0");
    expect(t.endpoints.peek("web-0", "app")).toBeUndefined();
    expect(t.releases).toEqual([["node-deleted", 1]]);
  });

  it("releases nothing while reclamation is switched off", async () => {
    const t = await setup();
    const assigned = await t.reserve("r1");
    t.addPod("web-0", assigned);
    await t.binder.reconcile("app/web-0");
    t.pods.items.length = 0;
    const binder = new Binder({ ...t.deps, gc: () => ({ ...DEFAULT_GC_SETTINGS, enabled: false }) });
    await binder.reconcile("app/web-0");
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10"]);
  });
});
