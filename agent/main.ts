// spiderpool-agent entry point: configuration from flags and environment, then serve the
// CNI plugin until SIGTERM/SIGINT.
import { ConfigError } from "../k8s/settings.js";
import { createLogger } from "../k8s/log.js";
import { parseAgentConfig } from "./config.js";
import { startAgent } from "./agent.js";

async function main(): Promise<void> {
  let config;
  try {
    config = parseAgentConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger("spiderpool-agent", config.logLevel);
  const agent = await startAgent(config, { log });
  const stop = (signal: string): void => {
    log.info({ signal }, "shutting down");
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
