/**
 * Reading the agent's JSON answers. The agent is trusted but may be another version: an
 * answer that is not in protocol.ts's shape becomes code 100 naming the field, never a
 * half-built CNI result.
 */
import { cidrFamily, ipFamily } from "./address-syntax.js";
import { CniError } from "./errors.js";
import { type AddAnswer, type AgentError, type AnswerDNS, type AnswerIP, type AnswerRoute, CNI_ERROR_CODES } from "./protocol.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function badAnswer(what: string, details = ""): CniError {
  return new CniError(CNI_ERROR_CODES.AGENT_BAD_ANSWER, `spiderpool-agent answered in an unexpected form: ${what}`, details);
}

/** An AgentError body, or undefined when the body is not one. */
export function readAgentError(body: unknown): AgentError | undefined {
  if (!isObject(body)) return undefined;
  const { code, msg, details, reason } = body;
  if (typeof code !== "number" || !Number.isInteger(code) || code < 1 || typeof msg !== "string") return undefined;
  const out: AgentError = { code, msg };
  if (typeof details === "string" && details !== "") out.details = details;
  if (typeof reason === "string" && reason !== "") out.reason = reason;
  return out;
}

/** The agent's refusal as the plugin prints it: the reason leads the details, so it shows in kubelet events. */
export function agentRefusal(err: AgentError): CniError {
  const details = [err.reason, err.details].filter((s) => s !== undefined && s !== "").join(": ");
  return new CniError(err.code, err.msg, details);
}

export function readAddAnswer(body: unknown): AddAnswer {
  if (!isObject(body)) throw badAnswer("the ADD answer is not an object");
  if (!Array.isArray(body.ips)) throw badAnswer("the ADD answer has no ips list");
  const ips = body.ips.map((ip, i) => readIP(ip, `ips[${i}]`));
  const routesRaw = body.routes ?? [];
  if (!Array.isArray(routesRaw)) throw badAnswer("routes is not a list");
  const answer: AddAnswer = { ips, routes: routesRaw.map((r, i) => readRoute(r, `routes[${i}]`)) };
  if (body.dns !== undefined && body.dns !== null) answer.dns = readDNS(body.dns);
  return answer;
}

function readIP(raw: unknown, at: string): AnswerIP {
  if (!isObject(raw)) throw badAnswer(`${at} is not an object`);
  const { interface: nic, address, gateway, family, vlan } = raw;
  if (typeof nic !== "string" || nic === "") throw badAnswer(`${at}.interface is not an interface name`);
  if (typeof address !== "string") throw badAnswer(`${at}.address is missing`);
  const fam = cidrFamily(address);
  if (fam === undefined) throw badAnswer(`${at}.address is not in CIDR form`, address);
  if (family !== fam) throw badAnswer(`${at}.family is ${JSON.stringify(family)} but ${address} is IPv${fam}`);
  const ip: AnswerIP = { interface: nic, address, family: fam };
  const gw = readGateway(gateway, fam, at);
  if (gw !== undefined) ip.gateway = gw;
  const tag = readVlan(vlan, at);
  if (tag !== undefined) ip.vlan = tag;
  return ip;
}

const absent = (v: unknown): v is undefined | null => v === undefined || v === null;

/** An optional gateway, of the address's family. */
function readGateway(gateway: unknown, fam: 4 | 6, at: string): string | undefined {
  if (absent(gateway) || gateway === "") return undefined;
  if (typeof gateway !== "string" || ipFamily(gateway) !== fam) throw badAnswer(`${at}.gateway is not an IPv${fam} address`, JSON.stringify(gateway));
  return gateway;
}

/** An optional VLAN id, 0-4094. */
function readVlan(vlan: unknown, at: string): number | undefined {
  if (absent(vlan)) return undefined;
  if (typeof vlan !== "number" || !Number.isInteger(vlan) || vlan < 0 || vlan > 4094) throw badAnswer(`${at}.vlan is not 0-4094`);
  return vlan;
}

function readRoute(raw: unknown, at: string): AnswerRoute {
  if (!isObject(raw)) throw badAnswer(`${at} is not an object`);
  const { dst, gw } = raw;
  if (typeof dst !== "string" || cidrFamily(dst) === undefined) throw badAnswer(`${at}.dst is not a CIDR`, String(dst));
  const route: AnswerRoute = { dst };
  if (gw !== undefined && gw !== null && gw !== "") {
    if (typeof gw !== "string" || ipFamily(gw) !== cidrFamily(dst)) throw badAnswer(`${at}.gw is not an address of the family of ${dst}`, JSON.stringify(gw));
    route.gw = gw;
  }
  return route;
}

function readDNS(raw: unknown): AnswerDNS {
  if (!isObject(raw)) throw badAnswer("dns is not an object");
  const dns: AnswerDNS = {};
  const list = (key: "nameservers" | "search" | "options"): void => {
    const v = raw[key];
    if (v === undefined || v === null) return;
    if (!Array.isArray(v) || !v.every((s): s is string => typeof s === "string")) throw badAnswer(`dns.${key} is not a list of strings`);
    if (v.length > 0) dns[key] = [...v];
  };
  list("nameservers");
  list("search");
  list("options");
  if (raw.domain !== undefined && raw.domain !== null) {
    if (typeof raw.domain !== "string") throw badAnswer("dns.domain is not a string");
    if (raw.domain !== "") dns.domain = raw.domain;
  }
  return dns;
}
