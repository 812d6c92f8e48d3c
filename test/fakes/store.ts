import { ConflictError, type Cache, type ObjectStore, type Preconditions } from "../../ipam/ports.js";
import type { ObjectMeta } from "../../ipam/kinds/meta.js";

type Obj = { metadata: ObjectMeta };

/** Objects travel as JSON, as they do to and from the apiserver (and in this test's own realm). */
const copy = <O>(o: O): O => JSON.parse(JSON.stringify(o)) as O;

const keyOf = (name: string, namespace?: string): string => `${namespace ?? ""}/${name}`;

/**
 * An in-memory apiserver for one kind: resourceVersions, compare-and-swap on every write,
 * uid and resourceVersion preconditions on delete. `beforeWrite` lets a test act as another
 * writer (or fail a write) just before a write lands. Objects handed out are JSON copies, as the
 * apiserver's are. `statusSubresource: false` is a kind written whole (SpiderEndpoint): replace
 * writes its status too, and there is no status to write apart.
 */
export class FakeStore<T extends Obj> implements ObjectStore<T> {
  constructor(private readonly kind: { statusSubresource?: false } = {}) {}

  private readonly objects = new Map<string, T>();
  private rv = 0;
  private uid = 0;
  /** Writes that reached the store (create, replace, replaceStatus, delete), in order. */
  readonly writes: { op: string; key: string }[] = [];
  readonly reads: string[] = [];
  /** Called before each write; may throw (a failure) or change the store (another writer). */
  beforeWrite?: (op: string, obj: T | undefined, key: string) => void;

  /** Puts an object in as if someone else created it; returns it as stored. */
  seed(obj: T): T {
    const stored = this.stamp(copy(obj), undefined);
    this.objects.set(keyOf(obj.metadata.name ?? "", obj.metadata.namespace), stored);
    return copy(stored);
  }

  /** The stored object right now (a copy), for assertions and for a cache's view. */
  peek(name: string, namespace?: string): T | undefined {
    const o = this.objects.get(keyOf(name, namespace));
    return o ? copy(o) : undefined;
  }

  all(): T[] {
    return [...this.objects.values()].map((o) => copy(o));
  }

  /** A Cache over this store's current objects (an informer that is never behind). */
  cache(): Cache<T> {
    return { get: (name, namespace) => this.peek(name, namespace), list: () => this.all() };
  }

  private stamp(obj: T, previous: T | undefined): T {
    obj.metadata.resourceVersion = String(++this.rv);
    obj.metadata.uid = previous?.metadata.uid ?? obj.metadata.uid ?? `uid-${++this.uid}`;
    return obj;
  }

  private write(op: string, obj: T | undefined, key: string): void {
    this.beforeWrite?.(op, obj, key);
    this.writes.push({ op, key });
  }

  get(name: string, namespace?: string): Promise<T | undefined> {
    this.reads.push(keyOf(name, namespace));
    return Promise.resolve(this.peek(name, namespace));
  }

  create(obj: T): Promise<T> {
    const key = keyOf(obj.metadata.name ?? "", obj.metadata.namespace);
    this.write("create", obj, key);
    if (this.objects.has(key)) return Promise.reject(new ConflictError(`${key} already exists`));
    const stored = this.stamp(copy(obj), undefined);
    this.objects.set(key, stored);
    return Promise.resolve(copy(stored));
  }

  private swap(op: string, obj: T, keep: (current: T, next: T) => T): Promise<T> {
    const key = keyOf(obj.metadata.name ?? "", obj.metadata.namespace);
    this.write(op, obj, key);
    const current = this.objects.get(key);
    if (!current) return Promise.reject(new Error(`${key} not found`));
    if (current.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      return Promise.reject(new ConflictError(`${key}: resourceVersion ${obj.metadata.resourceVersion} is not ${current.metadata.resourceVersion}`));
    }
    const stored = this.stamp(keep(current, copy(obj)), current);
    // A terminating object whose last finalizer goes is gone.
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0) this.objects.delete(key);
    else this.objects.set(key, stored);
    return Promise.resolve(copy(stored));
  }

  /** Spec and metadata; the stored status stays where status is a subresource. */
  replace(obj: T): Promise<T> {
    if (this.kind.statusSubresource === false) return this.swap("replace", obj, (_current, next) => next);
    return this.swap("replace", obj, (current, next) => ({ ...next, status: (current as { status?: unknown }).status }));
  }

  /** Status only; the stored spec and metadata stay. */
  replaceStatus(obj: T): Promise<T> {
    // As the apiserver answers for a kind without the subresource.
    if (this.kind.statusSubresource === false) return Promise.reject(new Error(`404: ${obj.metadata.name ?? ""} has no status subresource`));
    return this.swap("replaceStatus", obj, (current, next) => ({ ...current, status: (next as { status?: unknown }).status }));
  }

  delete(name: string, namespace: string | undefined, pre: Preconditions): Promise<void> {
    const key = keyOf(name, namespace);
    this.write("delete", undefined, key);
    const current = this.objects.get(key);
    if (!current) return Promise.resolve();
    if ((pre.uid && pre.uid !== current.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      return Promise.reject(new ConflictError(`${key}: precondition ${JSON.stringify(pre)} does not hold`));
    }
    // Finalizers hold the object, as the apiserver does, until they are removed.
    if ((current.metadata.finalizers ?? []).length > 0) {
      current.metadata.deletionTimestamp ??= new Date(0).toISOString();
      this.stamp(current, current);
    } else this.objects.delete(key);
    return Promise.resolve();
  }
}

/** A Cache over a fixed list (namespaces, nodes, Pods as a test lays them out). */
export function listCache<T extends Obj>(items: T[] = []): Cache<T> & { items: T[] } {
  return {
    items,
    get: (name, namespace) => items.find((o) => o.metadata.name === name && (namespace === undefined || (o.metadata.namespace ?? "") === namespace)),
    list: (namespace) => items.filter((o) => namespace === undefined || o.metadata.namespace === namespace),
  };
}
