import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStatus, waitFor } from "./kube.js";

/**
 * Where a local control plane publishes the CA of its apiserver's webhook client
 * certificate, so that controllers started against it (tests, benchmarks, npm start) can
 * be told whom to trust without knowing the cluster's directory. Local runs only: in a
 * cluster the CA comes with the installation (docs/security.md).
 */
const PUBLISHED = { namespace: "kube-system", name: "spiderpool-local-admission-client-ca", key: "ca.crt" };

export async function publishAdmissionClientCa(kc: KubeConfig, caPem: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  // kube-system is created by the apiserver shortly after it answers /readyz.
  await waitFor("kube-system to exist", async () => {
    try {
      await core.createNamespacedConfigMap({ namespace: PUBLISHED.namespace, body: { metadata: { name: PUBLISHED.name }, data: { [PUBLISHED.key]: caPem } } });
      return true;
    } catch (err) {
      if (isStatus(err, 409)) return true;
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }, 30_000);
}

/** The published CA, written to a file of its own (the controller's setting names a file). */
export async function localAdmissionClientCaFile(kc: KubeConfig): Promise<string> {
  const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: PUBLISHED.namespace, name: PUBLISHED.name });
  const pem = cm.data?.[PUBLISHED.key];
  if (!pem) throw new Error(`${PUBLISHED.namespace}/${PUBLISHED.name} has no ${PUBLISHED.key}: the local control plane was started by an older version; restart it (npm run cluster:down)`);
  const file = join(mkdtempSync(join(tmpdir(), "spiderpool-admission-ca-")), "ca.crt");
  writeFileSync(file, pem);
  return file;
}
