import { describe, expect, it } from "@jest/globals";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import { IPSet } from "../../../ipam/address/ipset.js";
import { applyPoolRequests } from "../../../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../../../ipam/allocation/codec.js";
import { buildPoolView } from "../../../ipam/allocation/pool-view.js";
import type { ObjectRef, Workload } from "../../../ipam/kinds/application.js";
import { AUTO_POOL_BOUND_AT, AUTO_POOL_SIZED_AT, autoPoolLabels } from "../../../ipam/kinds/auto-pool.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { AutoPoolCarver } from "../../../ipam/lifecycle/auto-pool-carver.js";
import { AutoPoolReconciler } from "../../../ipam/lifecycle/auto-pool-reconcile.js";
import type { ApplicationDirectory } from "../../../ipam/ports.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";

const IDLE = 60_000;
const app = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web", uid: "dddd-00001" };

/** The cache may say one thing and the apiserver another: `cached` and `live` are set apart. */
class Directory implements ApplicationDirectory {
  cached: Workload | undefined;
  live: Workload | undefined;
  get(_ref: ObjectRef): Promise<Workload | undefined> {
    return Promise.resolve(this.cached);
  }
  read(_ref: ObjectRef): Promise<Workload | undefined> {
    return Promise.resolve(this.live);
  }
}

function setup(ips: string[], o: { reclaim?: boolean; kind?: string } = {}) {
  const clock = new FakeClock();
  const pools = new FakeStore<SpiderIPPool>();
  const owner = { ...app, kind: o.kind ?? app.kind };
  pools.seed({
    metadata: {
      name: "auto4-web-eth0-00001",
      labels: autoPoolLabels(owner, { interface: "eth0", subnet: "s", cidr: parseCIDR("10.6.0.0/24"), reclaim: o.reclaim ?? true }),
      annotations: { [AUTO_POOL_BOUND_AT]: new Date(clock.now()).toISOString() },
      finalizers: ["spiderpool.spidernet.io"],
    },
    spec: { subnet: "10.6.0.0/24", ips },
  });
  const subnets = new FakeStore<SpiderSubnet>();
  const log = new RecordingLog();
  const carver = new AutoPoolCarver({ pools, subnets, poolCache: pools.cache(), reserved: (f) => IPSet.empty(f), clock, log });
  const apps = new Directory();
  const workload: Workload = { metadata: { name: "web", namespace: "shop", uid: app.uid }, spec: { replicas: 3 } };
  apps.cached = workload;
  apps.live = workload;
  let wanted: number | undefined = 5;
  const r = new AutoPoolReconciler({ pools: pools.cache(), store: pools, apps, wantedSize: () => wanted, carver, clock, log, idleMs: IDLE });
  const setWanted = (n: number | undefined): void => {
    wanted = n;
  };
  return { r, pools, apps, clock, log, setWanted };
}

const NAME = "auto4-web-eth0-00001";

async function hold(pools: FakeStore<SpiderIPPool>, address: string): Promise<void> {
  const p = pools.peek(NAME) as SpiderIPPool;
  const view = buildPoolView(p);
  const value = BigInt(address.split(".").reduce((n, x) => n * 256 + Number(x), 0));
  const state = applyPoolRequests(view, decodeAllocations(p.status?.allocations, view.subnet), [{ kind: "allocate", address: { family: 4, value } }], { now: 0, coolDownMs: 0 }).state;
  await pools.replaceStatus({ ...p, status: { allocations: encodeAllocations(state, view.subnet) } });
}

describe("AutoPoolReconciler", () => {
  it("shrinks a pool to what its application wants, keeping every held address", async () => {
    const t = setup(["10.6.0.10-10.6.0.31"]);
    for (const a of ["10.6.0.12", "10.6.0.30"]) await hold(t.pools, a);
    await t.r.reconcile(NAME);
    // Five wanted: the two held stay, the lowest free ones with them.
    expect(t.pools.peek(NAME)?.spec.ips).toEqual(["10.6.0.10-10.6.0.13", "10.6.0.30"]);
  });

  it("does not shrink a pool grown less than a lifetime ago (the caches may not show the scale-up yet), then does", async () => {
    const t = setup(["10.6.0.10-10.6.0.31"]);
    const p = t.pools.peek(NAME) as SpiderIPPool;
    await t.pools.replace({ ...p, metadata: { ...p.metadata, annotations: { ...p.metadata.annotations, [AUTO_POOL_SIZED_AT]: new Date(t.clock.now() - 10_000).toISOString() } } });
    await hold(t.pools, "10.6.0.12");
    expect(await t.r.reconcile(NAME)).toBe(IDLE - 10_000);
    expect(t.pools.peek(NAME)?.spec.ips).toEqual(["10.6.0.10-10.6.0.31"]);
    t.clock.advance(IDLE);
    await t.r.reconcile(NAME);
    expect(t.pools.peek(NAME)?.spec.ips).toEqual(["10.6.0.10-10.6.0.14"]);
  });

  it("gives everything back when no Pod has held an address for the reservation lifetime, and starts over after a resize", async () => {
    const t = setup(["10.6.0.10-10.6.0.14"]);
    expect(await t.r.reconcile(NAME)).toBe(IDLE);
    expect(t.pools.peek(NAME)?.spec.ips).toEqual(["10.6.0.10-10.6.0.14"]);
    t.clock.advance(IDLE / 2);
    expect(await t.r.reconcile(NAME)).toBe(IDLE / 2);
    t.clock.advance(IDLE / 2);
    expect(await t.r.reconcile(NAME)).toBeUndefined();
    expect(t.pools.peek(NAME)?.spec.ips).toEqual([]);
    // Grown again (its Pods came back): the idle time counts from the change.
    const p = t.pools.peek(NAME) as SpiderIPPool;
    await t.pools.replace({ ...p, spec: { ...p.spec, ips: ["10.6.0.10-10.6.0.14"] } });
    expect(await t.r.reconcile(NAME)).toBe(IDLE);
  });

  it("deletes the pool of an application that is gone, once past the grace and looked up again live", async () => {
    const t = setup(["10.6.0.10-10.6.0.14"]);
    t.apps.cached = undefined;
    t.clock.advance(IDLE / 4);
    expect(await t.r.reconcile(NAME)).toBe((IDLE * 3) / 4);
    t.clock.advance(IDLE);
    // The cache lags; the apiserver still has it.
    expect(await t.r.reconcile(NAME)).toBeUndefined();
    expect(t.pools.peek(NAME)?.metadata.deletionTimestamp).toBeUndefined();
    t.apps.live = undefined;
    await t.r.reconcile(NAME);
    expect(t.pools.peek(NAME)?.metadata.deletionTimestamp).toBeDefined();
  });

  it("takes another application of the same name (another uid) for a gone one", async () => {
    const t = setup(["10.6.0.10-10.6.0.14"]);
    const other = { metadata: { name: "web", namespace: "shop", uid: "a-new-one" } };
    t.apps.cached = other;
    t.apps.live = other;
    t.clock.advance(IDLE);
    await t.r.reconcile(NAME);
    expect(t.pools.peek(NAME)?.metadata.deletionTimestamp).toBeDefined();
  });

  it('keeps a gone application\'s pool for the next one when ippool-reclaim is "false"', async () => {
    const t = setup(["10.6.0.10-10.6.0.14"], { reclaim: false });
    t.apps.cached = undefined;
    t.apps.live = undefined;
    t.clock.advance(IDLE);
    await t.r.reconcile(NAME);
    expect(t.pools.peek(NAME)).toMatchObject({ spec: { ips: ["10.6.0.10-10.6.0.14"] } });
    expect(t.pools.peek(NAME)?.metadata.deletionTimestamp).toBeUndefined();
  });

  it("leaves a third party's pool its size while Pods hold it (only idleness shrinks it)", async () => {
    const t = setup(["10.6.0.10-10.6.0.19"], { kind: "Widget" });
    await hold(t.pools, "10.6.0.10");
    await t.r.reconcile(NAME);
    expect(t.pools.peek(NAME)?.spec.ips).toEqual(["10.6.0.10-10.6.0.19"]);
  });
});
