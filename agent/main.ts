// spiderpool-agent entry point: configuration from flags and environment, then serve the
// CNI plugin until SIGTERM/SIGINT.
import { runProgram } from "../k8s/program.js";
import { startAgent } from "./agent.js";
import { parseAgentConfig } from "./config.js";

runProgram("spiderpool-agent", parseAgentConfig, (config, log) => startAgent(config, { log }));
