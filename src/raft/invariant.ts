// Broken invariants crash loudly: a Raft member that keeps going after one can corrupt
// the cluster's history, which is far worse than a crash and a restart from disk.

export class InvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant broken: ${message}`);
    this.name = 'InvariantError';
  }
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
