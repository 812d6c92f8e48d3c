import { pino, type Logger } from "pino";

/** JSON logs on stdout; child loggers carry pod, pool and reservation ids. */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { component: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
