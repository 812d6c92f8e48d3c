import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ConflictError } from "../ipam/ports.js";

/**
 * A Lease's acquireTime/renewTime are MicroTime: the apiserver wants exactly six
 * fractional digits, while client-node serialises a Date with toISOString's three.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  }
}

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease nobody is seen renewing keeps others from taking over. */
  leaseDurationSeconds: number;
  /** How often to try to take or renew the Lease (the retry period). */
  renewEveryMs: number;
  /** The leader stops leading when it has not renewed for this long; less than the lease. Two thirds of it by default. */
  renewDeadlineMs?: number;
}

/** The Lease as the elector reads and writes it; a write that lost (409) throws ConflictError. */
export interface LeaseClient {
  read(): Promise<V1Lease | undefined>;
  create(body: V1Lease): Promise<V1Lease>;
  replace(body: V1Lease): Promise<V1Lease>;
}

/** A time that only moves forward, in ms (performance.now): never the wall clock, which replicas disagree on. */
export type Monotonic = () => number;

/** What a replica last saw of the Lease and when it saw it change, on its own monotonic clock. */
export interface Observed {
  readonly holder: string;
  /** Changes whenever anyone writes the Lease. */
  readonly version: string;
  readonly leaseMs: number;
  readonly seenAt: number;
}

/** The observation after reading `lease` at `now`: a new one when the Lease changed, else the old one. */
export function observe(prev: Observed | undefined, lease: V1Lease, now: number, defaultLeaseMs: number): Observed {
  const version = `${lease.metadata?.resourceVersion ?? ""}`;
  if (prev && prev.version === version) return prev;
  return { holder: lease.spec?.holderIdentity ?? "", version, leaseMs: (lease.spec?.leaseDurationSeconds ?? defaultLeaseMs / 1000) * 1000, seenAt: now };
}

/**
 * Whether another replica holds the Lease: it names a holder other than `me`, and this
 * replica has seen it change within the Lease's duration. The holder's renewTime is never
 * compared with this replica's clock (clocks of two machines disagree); as in client-go,
 * a Lease is judged by when it was seen to change.
 */
export function heldByAnother(o: Observed, me: string, now: number): boolean {
  return o.holder !== "" && o.holder !== me && now - o.seenAt < o.leaseMs;
}

/** The Lease client over the apiserver. */
export function apiLeaseClient(kc: KubeConfig, namespace: string, name: string): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const conflict = (err: unknown): never => {
    if (err instanceof ApiException && err.code === 409) throw new ConflictError(err.message);
    throw err;
  };
  return {
    async read() {
      try {
        return await api.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    create: (body) => api.createNamespacedLease({ namespace, body }).catch(conflict),
    replace: (body) => api.replaceNamespacedLease({ name, namespace, body }).catch(conflict),
  };
}

/** Rejects when `p` has not settled within `ms` (the request itself may still land later). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Leader election through a coordination.k8s.io Lease written with resourceVersion
 * preconditions. A replica takes the Lease when it is free or when it has seen nobody
 * renew it for a Lease duration, renews it every retry period while it leads, and stops
 * leading `renewDeadlineMs` after the start of its last successful renewal, on its own timer,
 * whatever its requests are doing. Since the deadline is shorter than the Lease, the leader
 * has stopped before any other replica may take over: never two leaders at once.
 */
export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;
  private observed?: Observed;
  private readonly client: LeaseClient;
  private readonly renewDeadlineMs: number;

  constructor(
    kc: KubeConfig | LeaseClient,
    private readonly opts: LeaderOptions,
    private readonly callbacks: { onStart: () => void; onStop: () => void },
    private readonly log: Pick<Logger, "info" | "warn" | "debug">,
    private readonly now: Monotonic = () => performance.now(),
  ) {
    this.client = "read" in kc ? kc : apiLeaseClient(kc, opts.namespace, opts.name);
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.floor((opts.leaseDurationSeconds * 1000 * 2) / 3);
    if (this.renewDeadlineMs >= opts.leaseDurationSeconds * 1000) throw new Error(`the renew deadline (${this.renewDeadlineMs} ms) must be shorter than the lease (${opts.leaseDurationSeconds} s)`);
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        if (err instanceof ConflictError) this.log.debug({ lease: this.opts.name }, "lease write lost a compare-and-swap");
        else this.log.warn({ err, lease: this.opts.name }, "lease update failed");
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.renewEveryMs);
    };
    void tick();
  }

  /** Stops for good and hands the Lease over at once instead of making the next leader wait for it to lapse. */
  async stop(): Promise<void> {
    const was = this.leading;
    this.abandon();
    if (!was) return;
    try {
      const lease = await within(this.client.read(), this.renewDeadlineMs, "reading the lease");
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        lease.spec.holderIdentity = undefined;
        await within(this.client.replace(lease), this.renewDeadlineMs, "releasing the lease");
      }
    } catch {
      // it lapses anyway
    }
  }

  /** Stops at once without touching the Lease, as a killed process would (tests of failover). */
  abandon(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
    this.setLeading(false);
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.log.info({ lease: this.opts.name, identity: this.opts.identity }, v ? "became leader" : "stopped leading");
    if (v) this.callbacks.onStart();
    else this.callbacks.onStop();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const started = this.now();
    const lease = await within(this.client.read(), this.renewDeadlineMs, "reading the lease");
    if (lease) {
      this.observed = observe(this.observed, lease, this.now(), this.opts.leaseDurationSeconds * 1000);
      if (heldByAnother(this.observed, this.opts.identity, this.now())) {
        this.setLeading(false);
        return;
      }
    }
    const body = this.leaseBody(lease);
    const written = await within(lease ? this.client.replace(body) : this.client.create(body), this.renewDeadlineMs, "writing the lease");
    if (this.stopped) return;
    this.observed = observe(this.observed, written, this.now(), this.opts.leaseDurationSeconds * 1000);
    this.renewed(started);
  }

  /** A renewal that started at `started` succeeded: lead until `started` + the renew deadline, unless renewed again. */
  private renewed(started: number): void {
    const left = started + this.renewDeadlineMs - this.now();
    if (left <= 0) return;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      this.log.warn({ lease: this.opts.name, renewDeadlineMs: this.renewDeadlineMs }, "lease not renewed in time; stepping down");
      this.setLeading(false);
    }, left);
    this.setLeading(true);
  }

  /** The Lease taken or renewed by this replica, guarded by the resourceVersion it was read at. */
  private leaseBody(lease: V1Lease | undefined): V1Lease {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const spec = lease?.spec;
    const mine = spec?.holderIdentity === identity;
    const now = new MicroTime();
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace, resourceVersion: lease?.metadata?.resourceVersion },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: mine && spec?.acquireTime ? new MicroTime(spec.acquireTime) : now,
        renewTime: now,
        leaseTransitions: (spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
  }
}
