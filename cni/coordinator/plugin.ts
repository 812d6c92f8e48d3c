/**
 * One coordinator run: environment and stdin in, stdout text and exit code out. All I/O
 * comes through CoordinatorIO (the host tools, the agent), so unit tests drive every path
 * with fakes; main.ts wires the real ones.
 */
import { type Environment, parseCniArgs, podIdentity } from "../env.js";
import { readInvocation, versionAnswer } from "../invocation.js";
import { CniError, errorJson } from "../errors.js";
import { type LogSink, type Logger, createLogger } from "../log.js";
import { type CniVersion, NEWEST_VERSION } from "../versions.js";
import { cmdAdd } from "./add.js";
import { cmdCheck, cmdGc, cmdStatus } from "./check.js";
import { COORDINATOR_ERROR_CODES } from "./codes.js";
import { type CoordinatorConf, type LogOptions, parseCoordinatorConf } from "./config.js";
import type { RunContext } from "./context.js";
import { cmdDel } from "./del.js";
import type { HostTools } from "./host-tools.js";
import type { ClusterDefaults } from "./agent-defaults.js";
import { resolveSettings } from "./settings.js";

export interface CoordinatorIO {
  env: Environment;
  readStdin(): string;
  stderr: LogSink;
  openLogFile(opts: LogOptions & { file: string }): LogSink;
  tools: HostTools;
  /** A PID in the node's network namespace: the plugin's own. */
  pid: number;
  /** The cluster's defaults and the Pod's choice of default-route NIC, from spiderpool-agent. */
  clusterDefaults(conf: CoordinatorConf, pod: { namespace: string; name: string } | undefined, log: Logger): Promise<ClusterDefaults>;
}

export interface Outcome {
  stdout: string;
  exitCode: number;
}

const success = (stdout = ""): Outcome => ({ stdout, exitCode: 0 });

function asError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  const { stack } = (err ?? {}) as { stack?: unknown };
  return new CniError(COORDINATOR_ERROR_CODES.INTERNAL, "internal error in the coordinator plugin", typeof stack === "string" ? stack : String(err));
}

export async function runCoordinator(io: CoordinatorIO): Promise<Outcome> {
  let cniVersion: CniVersion = NEWEST_VERSION;
  let log: Logger = createLogger("info", [io.stderr], { plugin: "coordinator" });
  try {
    const { env, stdin } = readInvocation(io.env, () => io.readStdin());
    if (env.command === "VERSION") return success(versionAnswer(stdin));
    const conf = parseCoordinatorConf(stdin, env.command);
    cniVersion = conf.cniVersion;
    const sinks = [io.stderr];
    if (conf.log.file !== undefined) sinks.push(io.openLogFile({ ...conf.log, file: conf.log.file }));
    const args = parseCniArgs(env.args);
    const pod = podIdentity(args);
    log = createLogger(conf.log.level, sinks, {
      plugin: "coordinator",
      command: env.command,
      network: conf.name,
      ...(env.containerID ? { containerID: env.containerID } : {}),
      ...(env.ifName ? { ifName: env.ifName } : {}),
      ...(pod ? { pod: `${pod.namespace}/${pod.name}` } : {}),
    });
    // Only ADD and CHECK act on the cluster's defaults; DEL, GC and STATUS use the config's.
    const wantsDefaults = env.command === "ADD" || env.command === "CHECK";
    const cluster = wantsDefaults ? await io.clusterDefaults(conf, pod, log) : {};
    const settings = resolveSettings(conf.tunables, cluster.tunables, cluster.podDefaultRouteNIC);
    log.debug("invoked", { netns: env.netns, settings });
    const ctx: RunContext = { env, conf, settings, tools: io.tools, log, pid: io.pid };
    switch (env.command) {
      case "ADD":
        return success(JSON.stringify(cmdAdd(ctx)) + "\n");
      case "DEL":
        cmdDel(ctx);
        return success();
      case "CHECK":
        cmdCheck(ctx);
        return success();
      case "GC":
        cmdGc(ctx);
        return success();
      case "STATUS":
        cmdStatus(ctx);
        return success();
    }
  } catch (thrown) {
    const err = asError(thrown);
    log.error(err.message, { code: err.code, details: err.details });
    return { stdout: JSON.stringify(errorJson(cniVersion, err)) + "\n", exitCode: 1 };
  }
}
