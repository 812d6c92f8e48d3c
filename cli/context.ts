import type { KubeConfig } from "@kubernetes/client-node";
import type { ControllerClient, ControllerTarget } from "./controller-client.js";
import type { Format, Io } from "./output.js";
import type { ClusterReads } from "./reads.js";

/** What every command gets: the user's cluster, where to write, and the parsed flags. */
export interface CommandContext {
  kc: KubeConfig;
  reads: ClusterReads;
  io: Io;
  format: Format;
  /** -n, or the kubeconfig context's namespace, or "default". */
  namespace: string;
  /** The controller's namespace (its spiderpool-conf). */
  systemNamespace: string;
  /** The controller, found on first use. */
  controller: () => Promise<ControllerClient>;
  target: ControllerTarget;
  flags: { yes: boolean; pool?: string };
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The synopsis after `kubectl spiderpool`. */
  usage: string;
  /** What it does, what it reads, an example. */
  help: string;
  run(ctx: CommandContext, args: readonly string[]): Promise<number>;
}
