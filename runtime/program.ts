import type { Logger } from "pino";
import { createLogger } from "./log.js";
import { ConfigError } from "./settings.js";

/**
 * The life of a program: settings parsed once (a bad one exits with status 2 and every
 * problem named), started, then stopped cleanly on SIGTERM/SIGINT.
 */
export function runProgram<C extends { logLevel: string }>(
  name: string,
  parse: (env: NodeJS.ProcessEnv, argv: string[]) => C,
  start: (config: C, log: Logger) => Promise<{ close(): Promise<void> }>,
): void {
  let config: C;
  try {
    config = parse(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(name, config.logLevel);
  start(config, log).then(
    (running) => {
      log.info(`${name} started`);
      const stop = (signal: string): void => {
        log.info({ signal }, "shutting down");
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    },
    (err: unknown) => {
      log.fatal({ err }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
