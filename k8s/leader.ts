import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";

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
  leaseDurationSeconds: number;
  renewEveryMs: number;
}

/**
 * Leader election through a coordination.k8s.io Lease, written with resourceVersion
 * preconditions: a replica takes the lease when it is free or expired, renews it while it
 * holds it, and gives it up (calling onStop) when a renewal fails past the lease duration.
 */
export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderOptions,
    private readonly callbacks: { onStart: () => void; onStop: () => void },
    private readonly log: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        this.log.warn({ err, lease: this.opts.name }, "lease update failed");
      }
      if (this.leading && Date.now() - this.lastRenew > this.opts.leaseDurationSeconds * 1000) this.setLeading(false);
      this.timer = setTimeout(() => void tick(), this.opts.renewEveryMs);
    };
    void tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.setLeading(false);
      // Hand over at once instead of making the next leader wait for expiry.
      try {
        const lease = await this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
        if (lease.spec?.holderIdentity === this.opts.identity) {
          lease.spec.holderIdentity = undefined;
          await this.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
        }
      } catch {
        // expiry hands it over anyway
      }
    }
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.log.info({ lease: this.opts.name, identity: this.opts.identity }, v ? "became leader" : "stopped leading");
    if (v) this.callbacks.onStart();
    else this.callbacks.onStop();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new MicroTime();
    const lease = await this.readLease();
    if (lease && this.heldByAnother(lease, now)) {
      this.setLeading(false);
      return;
    }
    if (!(await this.writeLease(lease, this.leaseBody(lease, now)))) return;
    this.lastRenew = now.getTime();
    this.setLeading(true);
  }

  /** The Lease, or undefined when there is none yet. */
  private async readLease(): Promise<V1Lease | undefined> {
    const { namespace, name } = this.opts;
    try {
      return await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Another replica holds the lease and has renewed it within its duration. */
  private heldByAnother(lease: V1Lease, now: Date): boolean {
    const spec = lease.spec;
    const renewed = spec?.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec?.leaseDurationSeconds ?? this.opts.leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec?.holderIdentity === this.opts.identity;
    return !mine && Boolean(spec?.holderIdentity) && !expired;
  }

  /** The lease taken or renewed by this replica, guarded by the resourceVersion it was read at. */
  private leaseBody(lease: V1Lease | undefined, now: MicroTime): V1Lease {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const spec = lease?.spec;
    const mine = spec?.holderIdentity === identity;
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

  /** Writes the lease; false when another replica wrote first (409), which is this round lost. */
  private async writeLease(lease: V1Lease | undefined, body: V1Lease): Promise<boolean> {
    const { namespace, name } = this.opts;
    try {
      if (lease) await this.api.replaceNamespacedLease({ name, namespace, body });
      else await this.api.createNamespacedLease({ namespace, body });
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return false; // someone else won this round
      throw err;
    }
  }
}
