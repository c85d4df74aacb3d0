// Broken internal invariants of the replication code: bugs, never user errors. They throw
// loudly instead of letting a replica drift.
export class ReplicationInvariantError extends Error {
  constructor(message: string) {
    super(`replication invariant violated: ${message}`);
    this.name = 'ReplicationInvariantError';
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ReplicationInvariantError(message);
}
