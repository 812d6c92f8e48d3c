/**
 * Where the plugins may write their log files: one directory, a setting of the host install
 * (the host settings file, which only root on the node writes), never of the network config,
 * which a tenant's NetworkAttachmentDefinition sets. A log path outside it is refused with
 * code 7 naming the config field, before anything is created; inside it, the file is opened
 * without following a symlink, and every folder on the way must resolve inside the directory.
 */
import { mkdirSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { invalidConfig } from "./errors.js";
import { type LogFileOptions, logFileSink } from "./log-file.js";
import type { LogSink } from "./log.js";

export const DEFAULT_LOG_DIR = "/var/log/spidernet";
/** Written by scripts/install-cni.sh --log-dir; `SPIDERPOOL_CNI_HOST_SETTINGS` (the runtime's environment) names another file. */
export const HOST_SETTINGS_FILE = "/etc/spidernet/spiderpool-cni.json";

/** The host's log directory: the settings file named by the environment, or the default one. */
export function readLogDir(env: Readonly<Record<string, string | undefined>>, read: (path: string) => string): LogDir {
  const source = env.SPIDERPOOL_CNI_HOST_SETTINGS || HOST_SETTINGS_FILE;
  let text: string | undefined;
  try {
    text = read(source);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw invalidConfig(`cannot read the host settings file ${source}`, String(err));
  }
  return parseHostSettings(text, source);
}

export interface LogDir {
  dir: string;
  /** Where the setting came from, for the refusal's details. */
  source: string;
}

/** Pure: the host settings file's text (undefined: no file) to the log directory. */
export function parseHostSettings(text: string | undefined, source: string): LogDir {
  if (text === undefined) return { dir: DEFAULT_LOG_DIR, source: `the default (no ${source})` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidConfig(`the host settings file ${source} is not JSON`, "fix the file scripts/install-cni.sh wrote, or remove it for the defaults");
  }
  const dir = (raw as { log_dir?: unknown } | null)?.log_dir;
  if (dir === undefined) return { dir: DEFAULT_LOG_DIR, source: `the default (${source} sets no log_dir)` };
  if (typeof dir !== "string" || !isAbsolute(dir)) throw invalidConfig(`log_dir in the host settings file ${source} must be an absolute path`, `got ${JSON.stringify(dir)}`);
  return { dir: resolve(dir), source };
}

const within = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
};

/** Pure: refuses a log path that is not a file inside the directory (lexically). */
export function checkLogPath(path: string, field: string, logDir: LogDir): string {
  const outside = () =>
    invalidConfig(`${field} "${path}" is outside the log directory ${logDir.dir}`, `log files go under ${logDir.dir} (set by ${logDir.source}); name a file there, or leave ${field} out`);
  if (!isAbsolute(path) || !within(logDir.dir, resolve(path))) throw outside();
  return resolve(path);
}

/** The deepest folder on the way to `path` that exists, resolved through symlinks. */
function realAncestor(path: string): string {
  for (let p = dirname(path); ; p = dirname(p)) {
    try {
      return realpathSync(p);
    } catch {
      if (p === dirname(p)) return p;
    }
  }
}

/**
 * The log sink for `path` (already checked by checkLogPath): the folders on the way must
 * resolve inside the directory (a symlink out of it is refused like a path outside), and
 * the file is opened with O_NOFOLLOW.
 */
export function confinedLogFileSink(path: string, field: string, logDir: LogDir, opts: Omit<LogFileOptions, "path" | "noFollow">): LogSink {
  const checked = checkLogPath(path, field, logDir);
  mkdirSync(logDir.dir, { recursive: true, mode: 0o755 });
  const realDir = realpathSync(logDir.dir);
  const ancestor = realAncestor(checked);
  if (ancestor !== realDir && !within(realDir, ancestor)) {
    throw invalidConfig(`${field} "${path}" leads out of the log directory ${logDir.dir}`, `a folder on the way resolves to ${ancestor}; name a plain file under ${logDir.dir}`);
  }
  return logFileSink({ ...opts, path: checked, noFollow: true });
}
