import { afterEach, describe, expect, it } from "@jest/globals";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { Agent as HttpsAgent } from "node:https";
import { reuseConnections } from "../../k8s/connections.js";
import { testClusterState } from "../harness/test-cluster.js";

/**
 * client-node 1.x makes an https.Agent per API call, so without reuseConnections every call
 * opens (and handshakes) a TLS connection of its own. Counted where Node opens connections.
 */
describe("connections to the apiserver", () => {
  type CreateConnection = (this: HttpsAgent, ...args: unknown[]) => unknown;
  const proto = HttpsAgent.prototype as unknown as { createConnection: CreateConnection };
  const original = proto.createConnection;
  let opened = 0;
  const counting = (): void => {
    opened = 0;
    proto.createConnection = function (this: HttpsAgent, ...args: unknown[]) {
      opened++;
      return original.apply(this, args);
    };
  };
  afterEach(() => {
    proto.createConnection = original;
  });

  const fresh = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(testClusterState().kubeconfig);
    return kc;
  };
  const twentyCalls = async (kc: KubeConfig): Promise<void> => {
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 20; i++) await core.listNamespace({ limit: 1 });
  };

  it("opens one connection for twenty calls in a row, where the library alone opens twenty", async () => {
    counting();
    await twentyCalls(fresh());
    expect(opened).toBe(20);
    counting();
    await twentyCalls(reuseConnections(fresh()));
    expect(opened).toBe(1);
  });

  it("opens a connection per call in flight, and reuses them afterwards", async () => {
    counting();
    const core = reuseConnections(fresh()).makeApiClient(CoreV1Api);
    await Promise.all(Array.from({ length: 5 }, () => core.listNamespace({ limit: 1 })));
    const parallel = opened;
    expect(parallel).toBeGreaterThanOrEqual(1);
    expect(parallel).toBeLessThanOrEqual(5);
    for (let i = 0; i < 10; i++) await core.listNamespace({ limit: 1 });
    expect(opened).toBe(parallel);
  });
});
