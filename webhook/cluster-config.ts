import type { V1ConfigMap } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { DEFAULT_CLUSTER_CONFIG, parseClusterConfig, type ClusterConfig } from "../ipam/kinds/cluster-config.js";
import type { Log } from "../ipam/ports.js";
import type { StartedInformer } from "../k8s/informer.js";

/**
 * The cluster configuration (ConfigMap spiderpool-conf, key conf.yml) as it is now: parsed
 * once per change; a change that does not parse or validate is logged and the previous
 * configuration stays; a deleted ConfigMap means the defaults.
 */
export function clusterConfigFrom(configMaps: StartedInformer<V1ConfigMap>, log: Log): () => ClusterConfig {
  let current = DEFAULT_CLUSTER_CONFIG;
  const load = (cm: V1ConfigMap): void => {
    const next = parseConfigMap(cm, log);
    if (next) current = next;
  };
  configMaps.on("add", load);
  configMaps.on("update", load);
  configMaps.on("delete", () => (current = DEFAULT_CLUSTER_CONFIG));
  // What the cache already holds (events before these handlers are not replayed).
  for (const cm of configMaps.list()) load(cm);
  return () => current;
}

function parseConfigMap(cm: V1ConfigMap, log: Log): ClusterConfig | undefined {
  const where = { configMap: cm.metadata?.name };
  let raw: unknown;
  try {
    raw = yaml.load(cm.data?.["conf.yml"] ?? "");
  } catch (err) {
    log.error({ err, ...where }, "conf.yml is not YAML; keeping the previous cluster configuration");
    return undefined;
  }
  const { config, errors, ignored } = parseClusterConfig(raw);
  if (errors.length > 0) {
    log.error({ errors, ...where }, "conf.yml is invalid; keeping the previous cluster configuration");
    return undefined;
  }
  if (ignored.length > 0) log.debug({ ignored }, "conf.yml keys this project does not use");
  log.info({ cluster: config }, "cluster configuration loaded");
  return config;
}
