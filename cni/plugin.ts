/**
 * One plugin run: environment and stdin in, stdout text and exit code out. All I/O comes
 * through PluginIO, so tests drive every path without a process; main.ts wires the real one.
 */
import type { AgentTransport } from "./agent-client.js";
import type { FastPath } from "./answer-file.js";
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus, type CommandContext } from "./commands.js";
import { type IpamConf, parseNetConf } from "./config.js";
import { type Environment, parseCniArgs, podIdentity, requirePod } from "./env.js";
import { readInvocation, versionAnswer } from "./invocation.js";
import { asCniError, errorJson } from "./errors.js";
import { type LogFields, type LogSink, type Logger, createLogger } from "./log.js";
import { type CniVersion, NEWEST_VERSION } from "./versions.js";

export interface PluginIO {
  env: Environment;
  /** The whole of stdin; throws when it cannot be read. */
  readStdin(): string;
  stderr: LogSink;
  /** The log-file sink for a config that names a file. */
  openLogFile(ipam: IpamConf & { logFilePath: string }): LogSink;
  connect(socketPath: string): AgentTransport;
  /** ADD's answer files and spool beside the socket; absent: ADD always asks the socket. */
  fastPath?(socketPath: string): FastPath;
}

export interface Outcome {
  stdout: string;
  exitCode: number;
}

const success = (stdout = ""): Outcome => ({ stdout, exitCode: 0 });

export async function runPlugin(io: PluginIO): Promise<Outcome> {
  let cniVersion: CniVersion = NEWEST_VERSION;
  let log: Logger = createLogger("info", [io.stderr], { plugin: "spiderpool" });
  try {
    const { env, stdin } = readInvocation(io.env, () => io.readStdin());
    if (env.command === "VERSION") return success(versionAnswer(stdin));

    const conf = parseNetConf(stdin, env.command);
    cniVersion = conf.cniVersion;
    const sinks = [io.stderr];
    if (conf.ipam.logFilePath !== undefined) sinks.push(io.openLogFile({ ...conf.ipam, logFilePath: conf.ipam.logFilePath }));
    const args = parseCniArgs(env.args);
    const fields: LogFields = { plugin: "spiderpool", command: env.command, network: conf.name };
    log = createLogger(conf.ipam.logLevel, sinks, runFields(fields, env.containerID, env.ifName, args));
    log.debug("invoked", { netns: env.netns, cniPath: env.path, cniVersion });

    const ctx: CommandContext = { env, conf, agent: io.connect(conf.ipam.socketPath), log };
    if (io.fastPath) ctx.fastPath = io.fastPath(conf.ipam.socketPath);
    switch (env.command) {
      case "ADD":
        return success(JSON.stringify(await cmdAdd(ctx, requirePod(args))) + "\n");
      case "CHECK":
        await cmdCheck(ctx, requirePod(args));
        return success();
      case "DEL":
        await cmdDel(ctx, podIdentity(args));
        return success();
      case "GC":
        await cmdGc(ctx);
        return success();
      case "STATUS":
        await cmdStatus(ctx);
        return success();
    }
  } catch (thrown) {
    const err = asCniError(thrown);
    log.error(err.message, { code: err.code, details: err.details });
    return { stdout: JSON.stringify(errorJson(cniVersion, err)) + "\n", exitCode: 1 };
  }
}

function runFields(base: LogFields, containerID: string, ifName: string, args: ReadonlyMap<string, string>): LogFields {
  const out: Record<string, unknown> = { ...base };
  if (containerID !== "") out.containerID = containerID;
  if (ifName !== "") out.ifName = ifName;
  const ns = args.get("K8S_POD_NAMESPACE");
  const name = args.get("K8S_POD_NAME");
  if (ns !== undefined && name !== undefined) out.pod = `${ns}/${name}`;
  return out;
}
