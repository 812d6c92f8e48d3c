// spiderpool-controller entry point: configuration from flags and environment, then run
// until SIGTERM/SIGINT, draining in-flight admission requests before exiting.
import { ConfigError, parseControllerConfig } from "./config.js";
import { startController } from "./controller.js";
import { createLogger } from "../k8s/log.js";

async function main(): Promise<void> {
  let config;
  try {
    config = parseControllerConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger("spiderpool-controller", config.logLevel);
  const controller = await startController(config, { log });
  log.info({ port: controller.port }, "spiderpool-controller started");
  const stop = (signal: string): void => {
    log.info({ signal }, "shutting down");
    controller
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
