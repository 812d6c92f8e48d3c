import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { reuseConnections } from "../k8s/connections.js";
import { commandHelp, COMMANDS, mainHelp } from "./commands.js";
import type { CommandContext } from "./context.js";
import { controllerClient, type ControllerClient } from "./controller-client.js";
import { parseFormat, UsageError, type Io } from "./output.js";
import { ClusterReads } from "./reads.js";

const OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
  pool: { type: "string" },
  yes: { type: "boolean", short: "y" },
  "no-color": { type: "boolean" },
  "controller-webhook": { type: "string" },
  "controller-url": { type: "string" },
  "controller-ca": { type: "string" },
  token: { type: "string" },
  "system-namespace": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** What the process gives the CLI: arguments, environment, where to write and whether that is a terminal. */
export interface CliEnv {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  io: Omit<Io, "color"> & { tty: boolean };
}

function parse(argv: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>> {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The user's kubeconfig, as kubectl finds it: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context picks a context. */
function kubeConfig(file: string | undefined, context: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG.split(":")[0] ?? "");
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return reuseConnections(kc);
}

function context(values: ReturnType<typeof parse>["values"], e: CliEnv): CommandContext {
  const kc = kubeConfig(values.kubeconfig, values.context, e.env);
  const target = {
    webhookConfiguration: values["controller-webhook"] ?? "spiderpool-mutating",
    ...(values["controller-url"] ? { url: values["controller-url"] } : {}),
    ...(values["controller-ca"] ? { caPem: readFileSync(values["controller-ca"], "utf8") } : {}),
    ...(values.token ? { token: values.token } : {}),
  };
  let client: Promise<ControllerClient> | undefined;
  const color = e.io.tty && !values["no-color"] && !e.env.NO_COLOR;
  return {
    kc,
    reads: new ClusterReads(kc),
    io: { out: e.io.out, err: e.io.err, ...(e.io.ask ? { ask: e.io.ask } : {}), color },
    format: parseFormat(values.output),
    namespace: values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default",
    systemNamespace: values["system-namespace"] ?? "spiderpool",
    controller: () => (client ??= controllerClient(kc, target)),
    target,
    flags: { yes: values.yes ?? false, ...(values.pool ? { pool: values.pool } : {}) },
  };
}

/**
 * Runs one `kubectl spiderpool` command line; resolves to the exit code: 0 done, 1 the answer
 * is "no" (inconsistent, refused, not found), 2 a command line to fix, 3 a failure on the way.
 */
export async function runCli(e: CliEnv): Promise<number> {
  // Known before parsing, so a bad flag still points at its command's help.
  let name = e.argv.find((a) => COMMANDS.some((c) => c.name === a));
  try {
    const { values, positionals } = parse(e.argv);
    [name] = positionals;
    const command = COMMANDS.find((c) => c.name === name);
    if (values.help || !name) {
      e.io.out(command ? commandHelp(command) : mainHelp());
      return name && !command ? 2 : 0;
    }
    if (!command) throw new UsageError(`unknown command ${name}; the commands are ${COMMANDS.map((c) => c.name).join(", ")}`);
    return await command.run(context(values, e), positionals.slice(1));
  } catch (err) {
    const e2 = err as Error;
    if (e2 instanceof UsageError) {
      e.io.err(`error: ${e2.message}\nrun kubectl spiderpool ${COMMANDS.some((c) => c.name === name) ? `${name} ` : ""}--help for usage\n`);
      return 2;
    }
    e.io.err(`error: ${e2.message}\n`);
    return e2.name === "ReleaseRefused" ? 1 : 3;
  }
}
