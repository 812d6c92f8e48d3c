import { KubeConfig, type RequestContext } from "@kubernetes/client-node";

interface Hold {
  matches(request: RequestContext): boolean;
  meanwhile(): Promise<void>;
  done(): void;
  failed(err: unknown): void;
}

/**
 * A KubeConfig that can hold one request of the clients made from it at the last moment,
 * body and all, while the test does something else against the apiserver. client-node
 * asks the KubeConfig to authenticate every request just before sending it, which is
 * where the hold happens. Used to put a write from outside between a controller's read
 * of an object and its compare-and-swap on it.
 */
export class HoldingKubeConfig extends KubeConfig {
  private readonly holds: Hold[] = [];

  static of(kubeconfigFile: string): HoldingKubeConfig {
    const kc = new HoldingKubeConfig();
    kc.loadFromFile(kubeconfigFile);
    return kc;
  }

  /**
   * The next request `matches` accepts waits until `meanwhile` has run, then goes out
   * unchanged. Resolves once `meanwhile` is done (so the test knows it happened).
   */
  holdNext(matches: (request: RequestContext) => boolean, meanwhile: () => Promise<void>): Promise<void> {
    return new Promise((done, failed) => this.holds.push({ matches, meanwhile, done, failed }));
  }

  override async applySecurityAuthentication(request: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(request);
    const i = this.holds.findIndex((h) => h.matches(request));
    if (i < 0) return;
    const [hold] = this.holds.splice(i, 1);
    try {
      await hold?.meanwhile();
      hold?.done();
    } catch (err) {
      hold?.failed(err);
    }
  }
}
