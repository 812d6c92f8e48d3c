import type { KubeConfig } from "@kubernetes/client-node";
import type { Family } from "../ipam/address/ip.js";
import type { IPSet } from "../ipam/address/ipset.js";
import type { ClusterConfig } from "../ipam/kinds/cluster-config.js";
import type { SpiderIPPool } from "../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../ipam/kinds/subnet.js";
import { ApplicationPools } from "../ipam/lifecycle/application-pools.js";
import { AutoPoolCarver } from "../ipam/lifecycle/auto-pool-carver.js";
import { AutoPoolReconciler } from "../ipam/lifecycle/auto-pool-reconcile.js";
import type { Clock, Log, ObjectStore } from "../ipam/ports.js";
import { KubeApplications } from "../k8s/applications.js";
import type { ControllerConfig } from "./config.js";
import type { ControllerInformers } from "./informers.js";

/** The parts of automatic per-application pools, built together over the controller's caches and stores. */
export interface AutoPools {
  /** Sizing at application and Pod admission. */
  pools: ApplicationPools;
  /** Where applications are read (caches, then live). */
  apps: KubeApplications;
  /** The leader's shrinking and reclaiming. */
  reconciler: AutoPoolReconciler;
}

export interface AutoPoolsDeps {
  informers: ControllerInformers;
  pools: ObjectStore<SpiderIPPool>;
  subnets: ObjectStore<SpiderSubnet>;
  reserved: (family: Family) => IPSet;
  cluster: () => ClusterConfig;
  config: ControllerConfig;
  clock: Clock;
  log: Log;
}

/** Automatic pools (ipam.spidernet.io/subnet), wired from the controller's shared parts. */
export function autoPools(kc: KubeConfig, d: AutoPoolsDeps): AutoPools {
  const { informers: i, config, clock, log } = d;
  const apps = new KubeApplications(kc, i.applications);
  const carver = new AutoPoolCarver({ pools: d.pools, subnets: d.subnets, poolCache: i.pools, reserved: d.reserved, clock, log });
  const limit = { count: config.ipam.autoPoolMaxIPs, setting: "controller setting --auto-pool-max-ips" };
  const pools = new ApplicationPools({ carver, apps, nodes: i.nodes, cluster: d.cluster, limit });
  const reconciler = new AutoPoolReconciler({
    pools: i.pools,
    store: d.pools,
    apps,
    wantedSize: (kind, w) => pools.wantedSize(kind, w),
    carver,
    clock,
    log,
    idleMs: config.ipam.reservationTtlMs,
  });
  return { pools, apps, reconciler };
}
