// spiderpool-controller entry point: configuration from flags and environment, then run
// until SIGTERM/SIGINT, draining in-flight admission requests before exiting.
import { runProgram } from "../runtime/program.js";
import { parseControllerConfig } from "./config.js";
import { startController } from "./wiring.js";

runProgram("spiderpool-controller", parseControllerConfig, (config, log) => startController(config, { log }));
