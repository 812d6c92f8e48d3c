import type { StartedInformer } from "../../k8s/informer.js";

type Obj = { metadata?: { name?: string; namespace?: string } };

/** An informer whose cache and events a test drives: set() and remove() update the cache and emit, as a watch would. */
export class FakeInformer<T extends Obj> implements StartedInformer<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers = { add: [] as ((o: T) => void)[], update: [] as ((o: T) => void)[], delete: [] as ((o: T) => void)[] };
  readonly synced = Promise.resolve();

  constructor(initial: T[] = []) {
    for (const o of initial) this.items.set(this.key(o), o);
  }

  private key(o: T): string {
    return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  }

  isSynced(): boolean {
    return true;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.items.get(`${namespace ?? ""}/${name}`);
  }

  list(namespace?: string): readonly T[] {
    return [...this.items.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }

  on(event: "add" | "update" | "delete", fn: (obj: T) => void): void {
    this.handlers[event].push(fn);
  }

  set(o: T): void {
    const event = this.items.has(this.key(o)) ? "update" : "add";
    this.items.set(this.key(o), o);
    for (const h of this.handlers[event]) h(o);
  }

  remove(o: T): void {
    this.items.delete(this.key(o));
    for (const h of this.handlers.delete) h(o);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
