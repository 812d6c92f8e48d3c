import type { IPVersion, ObjectMeta } from "./meta.js";

export const RESERVEDIP_KIND = "SpiderReservedIP";
export const RESERVEDIP_PLURAL = "spiderreservedips";

export interface ReservedIPSpec {
  ipVersion?: IPVersion;
  ips?: string[];
}

export interface SpiderReservedIP {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: ReservedIPSpec;
}
