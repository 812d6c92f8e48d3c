import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Cache, Log } from "../ipam/ports.js";
import { backoffDelay, type Backoff } from "../ipam/retry.js";

export interface StartedInformer<T> extends Cache<T> {
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  isSynced(): boolean;
  on(event: "add" | "update" | "delete", fn: (obj: T) => void): void;
  stop(): Promise<void>;
}

/** Restarts of a failed watch: quick at first (a CRD just created answers 429 for a moment), capped at 30 s. */
const WATCH_RESTART: Backoff = { baseMs: 250, maxMs: 30_000, jitter: true };

/** What an informer watches, and where it reports. */
export interface InformerOptions<T extends object> {
  /** The informer's name in logs. */
  name: string;
  /** The collection's API path, e.g. /api/v1/pods. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  log: Log;
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each object (k8s/trim.ts); applied to list items and watch events as they arrive. */
  trim?: (obj: T) => T;
}

/** A Watch whose events carry trimmed objects; errors and bookmarks pass as they are. */
class TrimmingWatch<T> extends Watch {
  constructor(kc: KubeConfig, private readonly trim: (obj: T) => T) {
    super(kc);
  }

  override watch(path: string, query: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    const keep = (phase: string, obj: unknown, watchObj?: unknown): void => callback(phase, phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED" ? this.trim(obj as T) : obj, watchObj);
    return super.watch(path, query, keep, done);
  }
}

/** The list and the watch of `opts`, trimming what they deliver when `opts.trim` says how. */
function source<T extends object>(kc: KubeConfig, opts: InformerOptions<T>): { watch: Watch; list: () => Promise<KubernetesListObject<T>> } {
  const { trim, list } = opts;
  if (!trim) return { watch: new Watch(kc), list };
  return {
    watch: new TrimmingWatch(kc, trim),
    list: async () => {
      const l = await list();
      return { ...l, items: l.items.map(trim) };
    },
  };
}

/**
 * A list-and-watch cache over client-node's ListWatch, which re-lists on 410 Gone but
 * stops on any other error: here it is restarted with capped exponential backoff, so a
 * restarted apiserver or a dropped connection never leaves the cache stale for good.
 */
export function startInformer<T extends object>(kc: KubeConfig, opts: InformerOptions<T>): StartedInformer<T> {
  const { name, path, log } = opts;
  const { watch, list } = source(kc, opts);
  // The project's kinds type their metadata a little differently from client-node's
  // V1ObjectMeta (plain JSON); the cache stores whatever the apiserver sent.
  const lw = new ListWatch<KubernetesObject>(path, watch, list, false, opts.labelSelector, opts.fieldSelector);
  let stopped = false;
  let synced = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  lw.on("connect", () => {
    failures = 0;
  });
  lw.on("error", (err: unknown) => {
    if (stopped) return;
    const delay = backoffDelay(++failures, WATCH_RESTART);
    // Right after a CRD is created the apiserver answers 429 "storage is (re)initializing"
    // for a moment: the first retries are routine, a run of them is worth a warning.
    const summary = { informer: name, retryInMs: delay, attempt: failures, code: (err as { code?: number }).code, error: String((err as Error).message ?? err).split("\n")[0] };
    if (failures > 3) log.warn(summary, "watch failed; restarting");
    else log.debug(summary, "watch failed; restarting");
    timer = setTimeout(() => {
      lw.start().catch((e: unknown) => log.error({ err: e, informer: name }, "informer restart failed"));
    }, delay);
  });
  // ListWatch reports a failed list through "error" (handled above) rather than by
  // rejecting start(); a resourceVersion appears only once a list has succeeded.
  lw.start().catch((err: unknown) => log.error({ err, informer: name }, "informer start failed"));
  const first = new Promise<void>((resolve) => {
    const check = (): void => {
      if (lw.latestResourceVersion() !== "") {
        synced = true;
        resolve();
      } else if (!stopped) {
        setTimeout(check, 25);
      }
    };
    check();
  });
  return {
    synced: first,
    isSynced: () => synced,
    get: (name, namespace) => lw.get(name, namespace) as T | undefined,
    list: (namespace) => lw.list(namespace) as readonly T[],
    on: (event, fn) => lw.on(event, fn as (obj: KubernetesObject) => void),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await lw.stop();
    },
  };
}
