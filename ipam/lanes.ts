/**
 * Work run one task after another per key, in the order it was handed in, and different keys
 * at once. A task runs whether the one before it resolved or rejected; a key's lane is
 * forgotten once it is empty.
 */
export class KeyedLanes {
  /** Per key, the settling of the last task handed in (never rejects). */
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const mine = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return mine;
  }

  /** Resolves when every task handed in so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
