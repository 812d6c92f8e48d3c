/**
 * The host programs the coordinator runs: iproute2's `ip` for all netlink work, `nsenter`
 * to run it inside the Pod's namespace (CNI_NETNS is a path, which `ip -n` does not take),
 * and, when the configuration asks, `arping`, `ping` and `sysctl`. A failure becomes a
 * CniError that names the command and quotes its output.
 *
 * Runtimes often call plugins with a short PATH (or none), so tools are looked up on PATH
 * and then in the usual system folders.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { CniError } from "../errors.js";
import { COORDINATOR_ERROR_CODES } from "./codes.js";

export type Tool = "ip" | "nsenter" | "arping" | "ping" | "sysctl";

const SYSTEM_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

const PACKAGES: Readonly<Record<Tool, string>> = {
  ip: "iproute2",
  nsenter: "util-linux",
  arping: "iputils-arping (Debian/Ubuntu) or iputils (RHEL)",
  ping: "iputils-ping",
  sysctl: "procps",
};

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface HostTools {
  /** Runs a tool, in the namespace at `netns` when given; never throws for a non-zero exit. */
  run(netns: string | undefined, tool: Tool, args: readonly string[], input?: string): RunResult;
  /** Whether the tool can be found (STATUS). */
  has(tool: Tool): boolean;
}

export function toolMissing(tool: Tool): CniError {
  return new CniError(
    COORDINATOR_ERROR_CODES.TOOL_MISSING,
    `the coordinator needs '${tool}' on the node and cannot find it`,
    `install ${PACKAGES[tool]}, or turn off the setting that needs it (see docs/coordinator.md)`,
  );
}

/** Where a command ran, for messages. */
export const where = (netns: string | undefined): string => (netns === undefined ? "the host namespace" : `namespace ${netns}`);

export function commandFailed(netns: string | undefined, command: string, output: string): CniError {
  return new CniError(COORDINATOR_ERROR_CODES.COMMAND_FAILED, `'${command}' failed in ${where(netns)}`, output.trim());
}

export function systemTools(pathEnv: string | undefined, timeoutMs = 15_000): HostTools {
  const found = new Map<Tool, string | undefined>();
  const locate = (tool: Tool): string | undefined => {
    if (!found.has(tool)) {
      const dirs = [...(pathEnv ?? "").split(":").filter((d) => d.startsWith("/")), ...SYSTEM_DIRS];
      found.set(tool, dirs.map((d) => `${d}/${tool}`).find(isExecutable));
    }
    return found.get(tool);
  };
  return {
    has: (tool) => locate(tool) !== undefined,
    run(netns, tool, args, input) {
      const bin = locate(tool);
      if (bin === undefined) throw toolMissing(tool);
      let argv = [bin, ...args];
      if (netns !== undefined) {
        const nsenter = locate("nsenter");
        if (nsenter === undefined) throw toolMissing("nsenter");
        argv = [nsenter, `--net=${netns}`, "--", ...argv];
      }
      const res = spawnSync(argv[0] ?? bin, argv.slice(1), { input: input ?? "", encoding: "utf8", timeout: timeoutMs });
      const error = res.error === undefined ? "" : `${res.error.message}\n`;
      return { status: res.status ?? -1, stdout: res.stdout ?? "", stderr: `${error}${res.stderr ?? ""}` };
    },
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
