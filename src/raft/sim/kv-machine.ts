// The simulator's replicated state machine: a key-value register map behind client
// sessions, so retried commands show up if they are ever applied twice.
import { decodeSessionCommand, SessionTable } from '../sessions.js';
import type { Entry } from '../types.js';

export interface KvValue {
  readonly value: string;
  /** Log index of the write that set it. */
  readonly index: number;
}

export interface KvApplied {
  readonly clientId: string;
  readonly seq: number;
  /** Index of the write that took effect (the first one, for a duplicate). */
  readonly writeIndex: number;
  readonly duplicate: boolean;
}

export class KvMachine {
  data = new Map<string, KvValue>();
  applied = 0;
  private sessions = new SessionTable<number>(1000);
  /** Every (client, seq) that took effect, to catch double application. */
  private effective = new Set<string>();

  /** Applies one committed entry; `onTwice` is told when a command would take effect twice. */
  apply(entry: Entry, onTwice: (op: string) => void): KvApplied | null {
    if (entry.index !== this.applied + 1) throw new Error(`apply out of order: ${entry.index} after ${this.applied}`);
    this.applied = entry.index;
    if (entry.type !== 'command') return null;
    const cmd = decodeSessionCommand(entry.data);
    const { key, value } = JSON.parse(new TextDecoder().decode(cmd.payload)) as { key: string; value: string };
    const outcome = this.sessions.apply(cmd.clientId, cmd.seq, entry.index, () => {
      const op = `${cmd.clientId}:${cmd.seq}`;
      if (this.effective.has(op)) onTwice(op);
      this.effective.add(op);
      this.data.set(key, { value, index: entry.index });
      return entry.index;
    });
    if (outcome.kind === 'stale') return null;
    return { clientId: cmd.clientId, seq: cmd.seq, writeIndex: outcome.result, duplicate: outcome.kind === 'duplicate' };
  }

  snapshot(): Uint8Array {
    const state = {
      data: [...this.data.entries()],
      applied: this.applied,
      sessions: this.sessions.toJSON(),
      effective: [...this.effective],
    };
    return new TextEncoder().encode(JSON.stringify(state));
  }

  static restore(bytes: Uint8Array, index: number): KvMachine {
    const kv = new KvMachine();
    kv.applied = index;
    if (bytes.byteLength === 0) return kv;
    const state = JSON.parse(new TextDecoder().decode(bytes)) as {
      data: [string, KvValue][];
      applied: number;
      sessions: ReturnType<SessionTable<number>['toJSON']>;
      effective: string[];
    };
    if (state.applied !== index) throw new Error(`snapshot state at ${state.applied}, meta says ${index}`);
    kv.data = new Map(state.data);
    kv.sessions = SessionTable.fromJSON(state.sessions, 1000);
    kv.effective = new Set(state.effective);
    return kv;
  }
}
