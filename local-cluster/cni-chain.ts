/**
 * A network config list run the way libcni runs it: ADD through the plugins in order, each
 * given the previous one's result as `prevResult`; CHECK in order with the cached result;
 * DEL in reverse order with it. Used by the tests and benchmarks that chain the coordinator
 * after macvlan.
 */
import { cni, type CniCall, type CniOutcome } from "./cni-exec.js";

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export type ChainCall = Omit<CniCall, "command" | "plugin" | "config" | "stdin">;

export interface ChainOutcome {
  /** The last plugin's outcome (the failing one, when one failed). */
  last: CniOutcome;
  /** Which plugin failed, by type; undefined on success. */
  failed?: string;
  /** ADD: the final result (what a runtime caches for CHECK and DEL). */
  result?: Record<string, unknown>;
}

function pluginConfig(list: ConfList, plugin: Record<string, unknown>, prevResult: unknown): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

async function runEach(list: ConfList, order: Record<string, unknown>[], command: "ADD" | "CHECK" | "DEL", call: ChainCall, cached?: unknown): Promise<ChainOutcome> {
  let prev = cached;
  let last: CniOutcome = { code: 0, stdout: "", json: undefined, stderr: "" };
  for (const plugin of order) {
    const type = String(plugin.type);
    last = await cni({ ...call, command, plugin: type, config: pluginConfig(list, plugin, prev) });
    if (last.code !== 0) return { last, failed: type };
    if (command === "ADD") prev = last.json;
  }
  return command === "ADD" ? { last, result: prev as Record<string, unknown> } : { last };
}

export const chainAdd = (list: ConfList, call: ChainCall): Promise<ChainOutcome> => runEach(list, list.plugins, "ADD", call);
export const chainCheck = (list: ConfList, call: ChainCall, result: unknown): Promise<ChainOutcome> => runEach(list, list.plugins, "CHECK", call, result);
export const chainDel = (list: ConfList, call: ChainCall, result?: unknown): Promise<ChainOutcome> => runEach(list, [...list.plugins].reverse(), "DEL", call, result);
