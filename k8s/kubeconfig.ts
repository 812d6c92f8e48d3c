import { KubeConfig } from "@kubernetes/client-node";

/** The program's credentials: a kubeconfig file when one is set (local runs), else the Pod's service account. */
export function loadKubeConfig(config: { kubeconfig?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  return kc;
}
