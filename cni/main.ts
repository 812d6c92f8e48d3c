/**
 * Entry point of the `spiderpool` IPAM binary (bundled by scripts/bundle.mjs into
 * dist/cni/). Wires the real process to runPlugin: nothing here but I/O.
 */
import { unixSocketTransport } from "./agent-client.js";
import { fileFastPath } from "./answer-file.js";
import { readFileSync } from "node:fs";
import { confinedLogFileSink, readLogDir } from "./log-dir.js";
import { runPlugin } from "./plugin.js";
import { exitWith, readStdin, stderr } from "./stdio.js";

const run = runPlugin({
  env: process.env,
  readStdin,
  stderr,
  // Throws a CniError (code 7) for a path outside the host's log directory: runPlugin answers it.
  openLogFile: (ipam) =>
    confinedLogFileSink(ipam.logFilePath, "ipam.log_file_path", readLogDir(process.env, (p) => readFileSync(p, "utf8")), {
      maxSizeMiB: ipam.logFileMaxSizeMiB,
      maxCount: ipam.logFileMaxCount,
      onFailure: stderr,
    }),
  connect: unixSocketTransport,
  fastPath: fileFastPath,
});
exitWith(run, { code: 101, msg: "internal error in the spiderpool plugin" });
