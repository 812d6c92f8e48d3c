/**
 * The ADD result per spec version. An IPAM plugin returns no `interfaces` (so no
 * `interface` index on its IPs either); 0.3.x and 0.4.0 put `version` on each IP,
 * 1.0.0 and later must not; `cniVersion` echoes the config's.
 */
import { badAnswer } from "./agent-answer.js";
import type { AddAnswer, AnswerDNS, AnswerRoute } from "./protocol.js";
import { type CniVersion, ipsCarryVersion } from "./versions.js";

export interface ResultIP {
  version?: "4" | "6";
  address: string;
  gateway?: string;
}

export interface IpamResult {
  cniVersion: CniVersion;
  ips: ResultIP[];
  routes?: AnswerRoute[];
  dns?: AnswerDNS;
}

export interface ResultOptions {
  cniVersion: CniVersion;
  /** CNI_IFNAME: the agent may answer for several NICs of the Pod; keep this one's. */
  ifName: string;
  /** The config's `clean_gateway`: no default route, whatever the agent sent. */
  cleanGateway: boolean;
}

export function isDefaultRoute(dst: string): boolean {
  const slash = dst.lastIndexOf("/");
  return slash >= 0 && Number(dst.slice(slash + 1)) === 0;
}

export function formatAddResult(answer: AddAnswer, opts: ResultOptions): IpamResult {
  const mine = answer.ips.filter((ip) => ip.interface === opts.ifName);
  if (mine.length === 0) {
    const nics = [...new Set(answer.ips.map((ip) => ip.interface))];
    throw badAnswer(
      `no address for interface ${opts.ifName}`,
      nics.length > 0 ? `the answer has addresses for ${nics.join(", ")}` : "the answer has no address at all",
    );
  }
  const withVersion = ipsCarryVersion(opts.cniVersion);
  const ips = mine.map((ip): ResultIP => {
    const out: ResultIP = withVersion ? { version: ip.family === 4 ? "4" : "6", address: ip.address } : { address: ip.address };
    // The gateway stays even with clean_gateway: main plugins use it only for routes
    // without a `gw`, and the Pod's record keeps it.
    if (ip.gateway !== undefined) out.gateway = ip.gateway;
    return out;
  });
  const result: IpamResult = { cniVersion: opts.cniVersion, ips };
  const routes = answer.routes
    .filter((r) => !(opts.cleanGateway && isDefaultRoute(r.dst)))
    .map((r): AnswerRoute => (r.gw === undefined ? { dst: r.dst } : { dst: r.dst, gw: r.gw }));
  if (routes.length > 0) result.routes = routes;
  if (answer.dns !== undefined && Object.keys(answer.dns).length > 0) result.dns = answer.dns;
  return result;
}
