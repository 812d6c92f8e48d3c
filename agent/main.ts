// spiderpool-agent entry point: configuration from flags and environment, then serve the
// CNI plugin until SIGTERM/SIGINT.
import { runProgram } from "../runtime/program.js";
import { startAgent } from "./wiring.js";
import { parseAgentConfig } from "./config.js";

runProgram("spiderpool-agent", parseAgentConfig, (config, log) => startAgent(config, { log }));
