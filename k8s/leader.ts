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
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = new MicroTime();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
    const spec = lease?.spec;
    const renewed = spec?.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec?.holderIdentity === identity;
    if (lease && !mine && spec?.holderIdentity && !expired) {
      this.setLeading(false);
      return;
    }
    const body: V1Lease = {
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
    try {
      if (lease) await this.api.replaceNamespacedLease({ name, namespace, body });
      else await this.api.createNamespacedLease({ namespace, body });
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return; // someone else won this round
      throw err;
    }
    this.lastRenew = now.getTime();
    this.setLeading(true);
  }
}
