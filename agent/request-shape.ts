import { CNI_ERROR_CODES, type AgentRequest, type CheckRequest, type GcRequest } from "../cni/protocol.js";
import { checkNames, type Violation } from "../ipam/kinds/spec-rules.js";
import { AgentFailure } from "./cni-service.js";

/**
 * The JSON types of what arrives on the socket, checked before the service reads it: the
 * plugin always sends these shapes, so another shape is a caller's mistake, refused with
 * code 6 naming the field (not a failure the runtime would retry for ever).
 */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function refuse(field: string, want: string, got: unknown): never {
  throw new AgentFailure(CNI_ERROR_CODES.DECODING_FAILURE, `the request's ${field} must be ${want}`, `got ${JSON.stringify(got)?.slice(0, 200)}`);
}

function requireRecord(input: unknown): Record<string, unknown> {
  if (!isRecord(input)) refuse("body", "a JSON object", input);
  return input;
}

const STRINGS = ["containerID", "netns", "ifName", "network", "podNamespace", "podName", "cniVersion"] as const;

export function agentRequest(input: unknown): AgentRequest {
  const r = requireRecord(input);
  for (const key of STRINGS) if (typeof r[key] !== "string") refuse(key, "a string", r[key]);
  if (r.podUID !== undefined && typeof r.podUID !== "string") refuse("podUID", "a string", r.podUID);
  if (r.ipam !== undefined && !isRecord(r.ipam)) refuse("ipam", "an object", r.ipam);
  // Names the apiserver would refuse (a read answered 400) are the caller's mistake, not a
  // reason for the runtime to retry (found by test/integration/fuzz-node.test.ts).
  const bad: Violation[] = [];
  checkNames("podNamespace", [r.podNamespace as string], "namespace", bad);
  checkNames("podName", [r.podName as string], "node", bad); // a Pod's name has a node name's syntax
  const first = bad[0];
  if (first) refuse(first.field.replace("[0]", ""), first.field.startsWith("podName") ? "a valid Pod name" : "a valid namespace name", first.field.startsWith("podName") ? r.podName : r.podNamespace);
  return r as unknown as AgentRequest;
}

export const checkRequest = (input: unknown): CheckRequest => agentRequest(input);

export function gcRequest(input: unknown): GcRequest {
  const r = requireRecord(input);
  if (typeof r.network !== "string") refuse("network", "a string", r.network);
  if (!Array.isArray(r.validAttachments)) refuse("validAttachments", "a list", r.validAttachments);
  r.validAttachments.forEach((a: unknown, i) => {
    if (!isRecord(a) || typeof a.containerID !== "string" || typeof a.ifname !== "string") refuse(`validAttachments[${i}]`, '{"containerID": string, "ifname": string}', a);
  });
  return r as unknown as GcRequest;
}
