/**
 * What each CNI command asks of the agent, and what the agent's answer (or silence)
 * means for that command:
 *
 * - agent unreachable or silent: ADD, CHECK, DEL and GC fail with 11 "try again later",
 *   STATUS with 50. DEL fails too, on purpose: the spec lets DEL succeed when a resource
 *   is already gone, but an unreachable agent means we do not know, and the runtime
 *   retries a failed DEL, while a false success would leave the agent's record behind.
 * - DEL of a Pod or attachment the agent does not know (code 3) is a success: DEL is
 *   idempotent. A DEL without Pod identity in CNI_ARGS cannot concern an attachment
 *   that this plugin added (ADD requires it) and also succeeds, without asking.
 * - any other refusal is printed as the agent phrased it (its code, msg, reason).
 */
import {
  AgentTimeoutError,
  type AgentReply,
  type AgentTransport,
  AgentUnreachableError,
} from "./agent-client.js";
import { agentRefusal, badAnswer, readAddAnswer, readAgentError } from "./agent-answer.js";
import type { FastPath } from "./answer-file.js";
import type { NetConf } from "./config.js";
import type { CniEnv, PodIdentity } from "./env.js";
import { CniError } from "./errors.js";
import type { Logger } from "./log.js";
import {
  AGENT_PATHS,
  type AddAnswer,
  type AgentPath,
  type AnswerFile,
  type AgentRequest,
  CNI_ERROR_CODES,
  type CheckRequest,
  type GcRequest,
  type SpooledAttachment,
} from "./protocol.js";
import { type IpamResult, formatAddResult } from "./result.js";

/** How long each command waits for the agent; kubelet gives a whole sandbox 2 min by default. */
export const AGENT_TIMEOUT_MS = {
  ADD: 90_000,
  CHECK: 30_000,
  DEL: 30_000,
  GC: 60_000,
  STATUS: 5_000,
} as const;

export interface CommandContext {
  env: CniEnv;
  conf: NetConf;
  agent: AgentTransport;
  log: Logger;
  fastPath?: FastPath;
}

const HINTS: Readonly<Record<string, string>> = {
  ENOENT: "the socket does not exist: is the spiderpool-agent Pod running on this node, and does ipam.ipam_unix_socket_path name its socket?",
  ECONNREFUSED: "nothing listens on the socket: spiderpool-agent is starting or has stopped",
  EACCES: "permission denied on the socket: the plugin runs as the container runtime's user",
};

/** A transport failure as the CNI error of this command (11 for most, 50 for STATUS). */
export function transportFailure(err: unknown, code: number): CniError {
  if (err instanceof AgentUnreachableError) {
    const hint = (err.errno !== undefined ? HINTS[err.errno] : undefined) ?? "check that spiderpool-agent runs on this node";
    return new CniError(code, err.message, hint);
  }
  if (err instanceof AgentTimeoutError) {
    return new CniError(code, err.message, "spiderpool-agent is overloaded or waiting on the API server; see its logs");
  }
  throw err;
}

async function callAgent(ctx: CommandContext, path: AgentPath, body: unknown, timeoutMs: number, failCode: number): Promise<AgentReply> {
  try {
    const reply = await ctx.agent.call(body === undefined ? "GET" : "POST", path, body, timeoutMs);
    ctx.log.debug("agent answered", { path, status: reply.status });
    return reply;
  } catch (err) {
    throw transportFailure(err, failCode);
  }
}

const ok = (reply: AgentReply): boolean => reply.status >= 200 && reply.status < 300;

/** A non-2xx answer: the agent's own error when it sent one, else a protocol error. */
function refusal(reply: AgentReply, path: string): CniError {
  const err = readAgentError(reply.body);
  if (err !== undefined) return agentRefusal(err);
  return badAnswer(`HTTP ${reply.status} from ${path} without an error body`, reply.text.slice(0, 200));
}

export function agentRequest(ctx: CommandContext, pod: PodIdentity): AgentRequest {
  const { env, conf } = ctx;
  const req: AgentRequest = {
    containerID: env.containerID,
    netns: env.netns,
    ifName: env.ifName,
    network: conf.name,
    podNamespace: pod.namespace,
    podName: pod.name,
    cniVersion: conf.cniVersion,
    ipam: {
      default_ipv4_ippool: conf.ipam.defaultIPv4IPPool,
      default_ipv6_ippool: conf.ipam.defaultIPv6IPPool,
      clean_gateway: conf.ipam.cleanGateway,
    },
  };
  if (pod.uid !== undefined) req.podUID = pod.uid;
  return req;
}

export async function cmdAdd(ctx: CommandContext, pod: PodIdentity): Promise<IpamResult> {
  let answer = fromAnswerFile(ctx, pod);
  const from = answer ? "answer file" : "agent";
  if (!answer) {
    const reply = await callAgent(ctx, AGENT_PATHS.add, agentRequest(ctx, pod), AGENT_TIMEOUT_MS.ADD, CNI_ERROR_CODES.TRY_AGAIN_LATER);
    if (!ok(reply)) throw refusal(reply, AGENT_PATHS.add);
    answer = readAddAnswer(reply.body);
  }
  const result = formatAddResult(answer, {
    cniVersion: ctx.conf.cniVersion,
    ifName: ctx.env.ifName,
    cleanGateway: ctx.conf.ipam.cleanGateway,
  });
  ctx.log.info("addresses assigned", { ips: result.ips.map((ip) => ip.address), from });
  return result;
}

/**
 * The answer the agent proved for this Pod (same namespace, name and uid) and NIC, once the
 * attachment's note is in the agent's spool; undefined whenever anything is missing or
 * odd, and the socket answers instead. Only the runtime's uid names a file: without
 * K8S_POD_UID there is no fast path.
 */
function fromAnswerFile(ctx: CommandContext, pod: PodIdentity): AddAnswer | undefined {
  if (!ctx.fastPath || pod.uid === undefined) return undefined;
  const text = ctx.fastPath.read(pod.uid);
  if (text === undefined) return undefined;
  try {
    const file = JSON.parse(text) as Partial<AnswerFile>;
    const nic = file.nics?.[ctx.env.ifName];
    if (file.namespace !== pod.namespace || file.name !== pod.name || file.uid !== pod.uid || nic === undefined) return undefined;
    const answer = readAddAnswer(nic);
    const note: SpooledAttachment = { op: "add", namespace: pod.namespace, name: pod.name, uid: pod.uid, attachment: { containerID: ctx.env.containerID, interface: ctx.env.ifName, network: ctx.conf.name } };
    ctx.fastPath.spool(`${Date.now().toString().padStart(15, "0")}-${ctx.env.containerID}-${ctx.env.ifName}`, JSON.stringify(note));
    return answer;
  } catch (err) {
    ctx.log.debug("answer file not used; asking the agent", { err: String(err) });
    return undefined;
  }
}

export async function cmdDel(ctx: CommandContext, pod: PodIdentity | undefined): Promise<void> {
  if (pod === undefined) {
    ctx.log.warn("DEL without K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS: nothing of ours to release");
    return;
  }
  const reply = await callAgent(ctx, AGENT_PATHS.del, agentRequest(ctx, pod), AGENT_TIMEOUT_MS.DEL, CNI_ERROR_CODES.TRY_AGAIN_LATER);
  if (ok(reply)) {
    ctx.log.info("attachment released");
    return;
  }
  const err = readAgentError(reply.body);
  if (err?.code === CNI_ERROR_CODES.UNKNOWN_CONTAINER) {
    ctx.log.info("the agent does not know this attachment: nothing to release", { agent: err.msg });
    return;
  }
  throw refusal(reply, AGENT_PATHS.del);
}

export async function cmdCheck(ctx: CommandContext, pod: PodIdentity): Promise<void> {
  const req: CheckRequest = agentRequest(ctx, pod);
  if (ctx.conf.prevResult !== undefined) req.prevResult = ctx.conf.prevResult;
  const reply = await callAgent(ctx, AGENT_PATHS.check, req, AGENT_TIMEOUT_MS.CHECK, CNI_ERROR_CODES.TRY_AGAIN_LATER);
  if (!ok(reply)) throw refusal(reply, AGENT_PATHS.check);
  ctx.log.debug("check passed");
}

export async function cmdGc(ctx: CommandContext): Promise<number> {
  const body: GcRequest = { network: ctx.conf.name, validAttachments: ctx.conf.validAttachments ?? [] };
  const reply = await callAgent(ctx, AGENT_PATHS.gc, body, AGENT_TIMEOUT_MS.GC, CNI_ERROR_CODES.TRY_AGAIN_LATER);
  if (!ok(reply)) throw refusal(reply, AGENT_PATHS.gc);
  const released = (reply.body as { released?: unknown } | undefined)?.released;
  if (typeof released !== "number" || !Number.isInteger(released) || released < 0) {
    throw badAnswer("the GC answer has no released count", reply.text.slice(0, 200));
  }
  ctx.log.info("garbage collected", { valid: body.validAttachments.length, released });
  return released;
}

/**
 * STATUS defines only 50 (cannot serve ADD) and 51 (and existing containers may have
 * limited connectivity). An IPAM plugin never carries traffic, so this plugin reports 50
 * itself; a 51 from the agent is passed on, any other refusal becomes 50.
 */
export async function cmdStatus(ctx: CommandContext): Promise<void> {
  const reply = await callAgent(ctx, AGENT_PATHS.status, undefined, AGENT_TIMEOUT_MS.STATUS, CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE);
  if (ok(reply)) return;
  const err = readAgentError(reply.body);
  if (err === undefined) {
    throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `spiderpool-agent answered STATUS with HTTP ${reply.status}`, reply.text.slice(0, 200));
  }
  const code =
    err.code === CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY
      ? CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY
      : CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE;
  const refused = agentRefusal(err);
  throw new CniError(code, refused.message, refused.details);
}
