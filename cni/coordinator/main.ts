/**
 * Entry point of the `coordinator` chained CNI plugin (bundled by scripts/bundle.mjs into
 * dist/cni/coordinator.cjs). Wires the real process to runCoordinator: nothing here but I/O.
 */
import { unixSocketTransport } from "../agent-client.js";
import { readFileSync } from "node:fs";
import { confinedLogFileSink, readLogDir } from "../log-dir.js";
import { exitWith, readStdin, stderr } from "../stdio.js";
import { askAgent } from "./agent-defaults.js";
import { systemTools } from "./host-tools.js";
import { runCoordinator } from "./plugin.js";

const run = runCoordinator({
  env: process.env,
  readStdin,
  stderr,
  // Throws a CniError (code 7) for a path outside the host's log directory: runCoordinator answers it.
  openLogFile: (log) =>
    confinedLogFileSink(log.file, "logOptions.logFile", readLogDir(process.env, (p) => readFileSync(p, "utf8")), { maxSizeMiB: log.maxSizeMiB, maxCount: log.maxCount, onFailure: stderr }),
  tools: systemTools(process.env.PATH),
  pid: process.pid,
  clusterDefaults: (conf, pod, log) => askAgent(unixSocketTransport, conf, pod, log),
});
exitWith(run, { code: 209, msg: "internal error in the coordinator plugin" });
