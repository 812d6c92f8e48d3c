import type { Log } from "../../ipam/ports.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: object;
  message: string;
}

/** A Log that keeps every line (children share the list), so tests can assert what was said and at which level. */
export class RecordingLog implements Log {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly bindings: object = {},
  ) {}

  private add(level: LogLine["level"], fields: object, message: string): void {
    this.lines.push({ level, fields: { ...this.bindings, ...fields }, message });
  }

  debug(fields: object, message: string): void {
    this.add("debug", fields, message);
  }

  info(fields: object, message: string): void {
    this.add("info", fields, message);
  }

  warn(fields: object, message: string): void {
    this.add("warn", fields, message);
  }

  error(fields: object, message: string): void {
    this.add("error", fields, message);
  }

  child(bindings: object): Log {
    return new RecordingLog(this.lines, { ...this.bindings, ...bindings });
  }

  at(level: LogLine["level"]): LogLine[] {
    return this.lines.filter((l) => l.level === level);
  }
}
