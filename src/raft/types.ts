// The vocabulary of the Raft core: entries, messages, hard state, snapshots and the
// Ready batch the core hands to its driver. Pure data; no I/O lives here.

export type MemberId = string;

/** What a log entry carries. `noop` starts every leader term; `config` changes membership. */
export type EntryType = 'noop' | 'command' | 'config';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  /** Opaque to the core for `command`; an encoded ConfigChange for `config`; empty for `noop`. */
  readonly data: Uint8Array;
}

/** Membership: voters decide, learners only receive the log until they are promoted. */
export interface Config {
  readonly voters: readonly MemberId[];
  readonly learners: readonly MemberId[];
}

/** What must survive a crash besides the log: fsynced before any vote or ack leaves. */
export interface HardState {
  readonly term: number;
  readonly vote: MemberId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: Config;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

interface Envelope {
  readonly from: MemberId;
  readonly to: MemberId;
  readonly term: number;
}

export type Message =
  | (Envelope & { type: 'PreVote'; lastIndex: number; lastTerm: number })
  | (Envelope & { type: 'PreVoteResp'; granted: boolean })
  | (Envelope & { type: 'Vote'; lastIndex: number; lastTerm: number; transfer: boolean })
  | (Envelope & { type: 'VoteResp'; granted: boolean })
  | (Envelope & { type: 'Append'; prevIndex: number; prevTerm: number; entries: Entry[]; commit: number })
  | (Envelope & {
      type: 'AppendResp';
      success: boolean;
      /** On success: the last index the follower now matches. On failure: the rejected prevIndex. */
      index: number;
      /** Fast backtracking hint on failure: the follower's term at the conflict and the first index of that term (or its last index + 1 when its log is short). */
      hintTerm: number;
      hintIndex: number;
    })
  | (Envelope & { type: 'Heartbeat'; commit: number; readCtx: number })
  | (Envelope & { type: 'HeartbeatResp'; readCtx: number })
  | (Envelope & {
      type: 'Snapshot';
      meta: SnapshotMeta;
      /** Byte offset of this chunk in the snapshot data; chunks arrive in order. */
      offset: number;
      chunk: Uint8Array;
      total: number;
      done: boolean;
    })
  | (Envelope & { type: 'SnapshotResp'; index: number; offset: number; accepted: boolean })
  | (Envelope & { type: 'TimeoutNow' });

export type MessageType = Message['type'];

/** A linearizable read whose index is confirmed: serve it once applied >= index. */
export interface ReadState {
  readonly ctx: number;
  readonly index: number;
}

/**
 * One batch of work for the driver. In this order: persist `snapshot` (if any), then
 * `entries` (truncating the stored log at entries[0].index), then `hardState`, fsync,
 * then send `messages`, apply `committed`, serve `readStates`, and call `advance()`.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: Entry[];
  readonly messages: Message[];
  readonly committed: Entry[];
  readonly readStates: ReadState[];
  /** Read contexts that can no longer be confirmed (leadership was lost): retry elsewhere. */
  readonly failedReads: number[];
  /** Leadership as of this batch: lets the driver fail pending proposals on loss. */
  readonly softState: SoftState;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly role: Role;
  readonly leader: MemberId | null;
  readonly term: number;
}

/** A membership change, one server at a time. */
export type ConfigChange =
  | { op: 'add-learner'; id: MemberId; context?: string }
  | { op: 'promote'; id: MemberId }
  | { op: 'remove'; id: MemberId };
