/**
 * A small JSON-lines logger. The plugin lives for milliseconds, so pino's worker and
 * buffering would cost more than they save; lines go synchronously to the sinks main.ts
 * gives (stderr, and the log file when the config names one).
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;
export type LogSink = (line: string) => void;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (container id, pod, command). */
  with(fields: LogFields): Logger;
}

export function createLogger(level: LogLevel, sinks: readonly LogSink[], base: LogFields = {}, now = () => new Date()): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (at: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(at) < min) return;
    const line = JSON.stringify({ level: at, time: now().toISOString(), ...base, ...fields, msg }) + "\n";
    for (const sink of sinks) sink(line);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    with: (fields) => createLogger(level, sinks, { ...base, ...fields }, now),
  };
}
