import type { KubeConfig } from "@kubernetes/client-node";
import { secretStore, webhookCaBundleTarget } from "../certs/k8s.js";
import { WebhookCertificates, type ServingMaterial } from "../certs/manager.js";
import type { Log } from "../ipam/ports.js";
import type { ControllerConfig } from "./config.js";
import type { ControllerMetrics } from "./metrics.js";
import type { TlsMaterial } from "./server.js";

/**
 * The admission server's certificates over time: the Secret-backed manager (shared by the
 * replicas), a periodic check that renews what is due, and the swap of the served
 * certificate when the Secret changed.
 */
export class ServingCertificates {
  readonly manager: WebhookCertificates;
  private served = "";
  private timer?: NodeJS.Timeout;
  private serve?: (tls: TlsMaterial) => void;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly config: ControllerConfig,
    metrics: ControllerMetrics,
    private readonly log: Log,
  ) {
    this.manager = new WebhookCertificates(
      secretStore(kc, config.namespace, config.tls.secretName),
      [webhookCaBundleTarget(kc, config.webhookConfigurations)],
      { ...config.tls, namespace: config.namespace },
      () => new Date(),
      (what) => {
        log.info({ what }, "webhook certificates rotated");
        metrics.certificateRotations.inc({ what });
      },
    );
  }

  /** The first material, before the server starts. */
  async initial(): Promise<ServingMaterial> {
    const tls = await this.manager.reconcile();
    this.served = tls.certPem;
    return tls;
  }

  /** From now on, renewed material goes to `serve`, checked every tls.checkIntervalMs. */
  follow(serve: (tls: TlsMaterial) => void): void {
    if (this.stopped) return;
    this.serve = serve;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((err: unknown) => this.log.error({ err }, "certificate check failed"))
        .finally(() => this.follow(serve));
    }, this.config.tls.checkIntervalMs);
  }

  /** Re-reads the Secret, renews what is due (or what `force` says) and serves the result. */
  async refresh(force?: "serving" | "ca"): Promise<void> {
    const next = await this.manager.reconcile(force);
    if (next.certPem === this.served) return;
    this.serve?.(next);
    this.served = next.certPem;
    this.log.info({}, "serving a new certificate");
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
