/**
 * Work that only the replica holding the controller's Lease does. Informers run on every
 * replica (admission needs them); a task only decides what to do with their events.
 */
export interface LeaderTask {
  /** This replica became the leader: catch up on everything (a full pass), then follow events. */
  startLeading(): void;
  /** Leadership is lost or given up: stop acting at once. */
  stopLeading(): void;
  /** Resolves when the task has nothing queued or running (tests, shutdown). */
  settled(): Promise<void>;
  /** For good, at shutdown. */
  stop(): void;
}
