// The replicated meta machine as the Raft driver sees it: committed log entries in,
// results out. Wraps the pure meta state with client sessions (exactly-once commands)
// and the meta members' addresses, and turns all of it into snapshots and back.
import { decodeConfigEntry } from '../raft/config.js';
import { invariant } from '../raft/invariant.js';
import { decodeSessionCommand, encodeSessionCommand, SessionTable } from '../raft/sessions.js';
import type { Entry } from '../raft/types.js';
import { apply, decodeState, encodeState, initialState, type ApplyResult, type MetaState } from './state.js';

/** Where a meta member listens: its HTTP API and its Raft peer port. */
export interface MemberAddress {
  readonly api: string;
  readonly raft: string;
}

/** A command as it travels through the log: stamped by the leader with its clock. */
export interface LoggedCommand {
  readonly nowMs: number;
  readonly command: unknown;
}

const SNAPSHOT_FORMAT = 'space-opera/meta-snapshot';
const MAX_SESSIONS = 50_000;

export function encodeLoggedCommand(clientId: string, seq: number, logged: LoggedCommand): Uint8Array {
  const payload = new TextEncoder().encode(JSON.stringify(logged));
  return encodeSessionCommand({ clientId, seq, payload });
}

export class MetaMachine {
  state: MetaState;
  applied: number;
  addresses = new Map<string, MemberAddress>();
  private sessions: SessionTable<ApplyResult>;
  /** Called after every applied entry (watchers wake on a new map version). */
  onApplied: (index: number) => void = () => {};

  constructor(state: MetaState, applied: number, addresses: Map<string, MemberAddress>, sessions = new SessionTable<ApplyResult>(MAX_SESSIONS)) {
    this.state = state;
    this.applied = applied;
    this.addresses = addresses;
    this.sessions = sessions;
  }

  static empty(): MetaMachine {
    return new MetaMachine(initialState(), 0, new Map());
  }

  /** Applies one committed entry; returns the command's result (null for no-ops and config). */
  applyEntry(entry: Entry): ApplyResult | null {
    invariant(entry.index === this.applied + 1, () => `meta apply out of order: ${entry.index} after ${this.applied}`);
    this.applied = entry.index;
    let result: ApplyResult | null = null;
    if (entry.type === 'config') {
      this.applyMembership(entry);
    } else if (entry.type === 'command') {
      result = this.applyCommand(entry);
    }
    this.onApplied(entry.index);
    return result;
  }

  private applyCommand(entry: Entry): ApplyResult {
    let cmd;
    let logged: LoggedCommand;
    try {
      cmd = decodeSessionCommand(entry.data);
      logged = JSON.parse(new TextDecoder().decode(cmd.payload)) as LoggedCommand;
    } catch (err) {
      // Only authenticated members append; an undecodable entry is still applied the
      // same way everywhere (as a rejection) so the replicas cannot diverge.
      return { ok: false, code: 'invalid', message: `undecodable command: ${(err as Error).message}` };
    }
    const outcome = this.sessions.apply(cmd.clientId, cmd.seq, entry.index, () => {
      const out = apply(this.state, logged.command, Math.max(0, Math.floor(Number(logged.nowMs) || 0)));
      this.state = out.state;
      return out.result;
    });
    if (outcome.kind === 'stale') {
      return { ok: false, code: 'stale-sequence', message: `sequence ${cmd.seq} of client ${cmd.clientId} is older than its last command` };
    }
    return outcome.result;
  }

  private applyMembership(entry: Entry): void {
    const { change } = decodeConfigEntry(entry.data);
    if (change.op === 'add-learner' && change.context) {
      const addr = parseAddressContext(change.context);
      if (addr) this.addresses.set(change.id, addr);
    } else if (change.op === 'remove') {
      this.addresses.delete(change.id);
    }
  }

  snapshot(): Uint8Array {
    const doc = {
      format: SNAPSHOT_FORMAT,
      v: 1,
      applied: this.applied,
      state: new TextDecoder().decode(encodeState(this.state)),
      sessions: this.sessions.toJSON(),
      addresses: [...this.addresses.entries()],
    };
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  static restore(bytes: Uint8Array, index: number): MetaMachine {
    let doc: {
      format: string; v: number; applied: number; state: string;
      sessions: ReturnType<SessionTable<ApplyResult>['toJSON']>; addresses: [string, MemberAddress][];
    };
    try {
      doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (err) {
      throw new Error(`meta snapshot is not JSON: ${(err as Error).message}`);
    }
    if (doc.format !== SNAPSHOT_FORMAT || doc.v !== 1) throw new Error('meta snapshot has an unknown format');
    invariant(doc.applied === index, () => `meta snapshot holds state at ${doc.applied}, its metadata says ${index}`);
    const state = decodeState(new TextEncoder().encode(doc.state));
    return new MetaMachine(state, index, new Map(doc.addresses), SessionTable.fromJSON(doc.sessions, MAX_SESSIONS));
  }
}

export function encodeAddressContext(addr: MemberAddress): string {
  return JSON.stringify({ api: addr.api, raft: addr.raft });
}

function parseAddressContext(context: string): MemberAddress | null {
  try {
    const v = JSON.parse(context) as Partial<MemberAddress>;
    return typeof v.api === 'string' && typeof v.raft === 'string' ? { api: v.api, raft: v.raft } : null;
  } catch {
    return null;
  }
}
