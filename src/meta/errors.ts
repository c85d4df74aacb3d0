// Two kinds of failure, kept apart on purpose: a rejected command is an ordinary,
// deterministic outcome recorded as a result; a broken invariant is a bug and stops
// the process loudly.

export type RejectCode =
  | 'invalid'
  | 'not-initialized'
  | 'already-initialized'
  | 'unknown-node'
  | 'node-exists'
  | 'token-used'
  | 'token-expired'
  | 'bad-transition'
  | 'data-loss'
  | 'unknown-plan'
  | 'unknown-move'
  | 'move-finished'
  | 'too-early'
  | 'stale-epoch'
  | 'conflict'
  | 'limit-exceeded'
  | 'stale-sequence';

export class CommandRejected extends Error {
  readonly code: RejectCode;
  constructor(code: RejectCode, message: string) {
    super(message);
    this.name = 'CommandRejected';
    this.code = code;
  }
}

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`meta invariant broken: ${message}`);
    this.name = 'InvariantViolation';
  }
}

export function reject(code: RejectCode, message: string): never {
  throw new CommandRejected(code, message);
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}
