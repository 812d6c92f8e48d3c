/**
 * Entry point of the `spiderpool` IPAM binary (bundled by scripts/bundle.mjs into
 * dist/cni/). Wires the real process to runPlugin: nothing here but I/O.
 */
import { unixSocketTransport } from "./agent-client.js";
import { fileFastPath } from "./answer-file.js";
import { logFileSink } from "./log-file.js";
import { runPlugin } from "./plugin.js";
import { exitWith, readStdin, stderr } from "./stdio.js";

const run = runPlugin({
  env: process.env,
  readStdin,
  stderr,
  openLogFile: (ipam) =>
    logFileSink({ path: ipam.logFilePath, maxSizeMiB: ipam.logFileMaxSizeMiB, maxCount: ipam.logFileMaxCount, onFailure: stderr }),
  connect: unixSocketTransport,
  fastPath: fileFastPath,
});
exitWith(run, { code: 101, msg: "internal error in the spiderpool plugin" });
