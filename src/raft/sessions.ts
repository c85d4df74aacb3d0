// Client sessions (dissertation §6.3): a command carries (client id, sequence); the state
// machine applies each sequence once and answers a retry with the cached result.
import { invariant } from './invariant.js';

export interface SessionCommand {
  readonly clientId: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Layout: u16 client-id length, client id (UTF-8), f64 sequence, payload. */
export function encodeSessionCommand(cmd: SessionCommand): Uint8Array {
  const id = encoder.encode(cmd.clientId);
  invariant(id.byteLength > 0 && id.byteLength < 65536, 'client id must be 1..65535 bytes');
  invariant(Number.isSafeInteger(cmd.seq) && cmd.seq > 0, 'sequence must be a positive integer');
  const out = new Uint8Array(2 + id.byteLength + 8 + cmd.payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint16(0, id.byteLength);
  out.set(id, 2);
  view.setFloat64(2 + id.byteLength, cmd.seq);
  out.set(cmd.payload, 10 + id.byteLength);
  return out;
}

export function decodeSessionCommand(bytes: Uint8Array): SessionCommand {
  if (bytes.byteLength < 10) throw new Error('session command too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint16(0);
  if (bytes.byteLength < 10 + len || len === 0) throw new Error('session command truncated');
  const clientId = decoder.decode(bytes.subarray(2, 2 + len));
  const seq = view.getFloat64(2 + len);
  if (!Number.isSafeInteger(seq) || seq <= 0) throw new Error('session command has a bad sequence');
  return { clientId, seq, payload: bytes.subarray(10 + len) };
}

interface Session<R> {
  seq: number;
  result: R;
  /** Log index of the last use, for deterministic eviction. */
  lastIndex: number;
}

export type SessionOutcome<R> =
  | { kind: 'applied'; result: R }
  | { kind: 'duplicate'; result: R }
  /** Older than the session's last sequence: its answer is gone; the client moved on long ago. */
  | { kind: 'stale' };

export class SessionTable<R> {
  private sessions = new Map<string, Session<R>>();
  constructor(private readonly maxSessions = 100_000) {}

  /** Runs `apply` exactly once per (client, seq). Deterministic: eviction depends on log indexes only. */
  apply(clientId: string, seq: number, index: number, apply: () => R): SessionOutcome<R> {
    const s = this.sessions.get(clientId);
    if (s && seq === s.seq) {
      // A retry keeps the session alive: move it to the most recently used end.
      this.sessions.delete(clientId);
      this.sessions.set(clientId, { ...s, lastIndex: index });
      return { kind: 'duplicate', result: s.result };
    }
    if (s && seq < s.seq) return { kind: 'stale' };
    const result = apply();
    this.sessions.delete(clientId); // re-insert: Map order becomes least-recently-used first
    this.sessions.set(clientId, { seq, result, lastIndex: index });
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    return { kind: 'applied', result };
  }

  size(): number {
    return this.sessions.size;
  }

  toJSON(): [string, Session<R>][] {
    return [...this.sessions.entries()];
  }

  static fromJSON<R>(rows: [string, Session<R>][], maxSessions?: number): SessionTable<R> {
    const table = new SessionTable<R>(maxSessions);
    for (const [id, s] of rows) table.sessions.set(id, { ...s });
    return table;
  }
}
