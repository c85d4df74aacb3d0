// The meta state: everything the Raft log decides about the cluster. Plain JSON data
// (no Maps, no classes) so a snapshot is just its serialization and two replicas that
// applied the same log hold deep-equal values.

export type NodeState = 'joining' | 'up' | 'suspect' | 'down' | 'draining' | 'removed';
export const NODE_STATES: readonly NodeState[] = ['joining', 'up', 'suspect', 'down', 'draining', 'removed'];

export interface ClusterSettings {
  readonly clusterId: string;
  /** Fixed at bootstrap: the key space is hashed into this many partitions. */
  readonly partitions: number;
  /** Fixed at bootstrap: replicas per partition. */
  readonly replication: number;
  /** Writes are refused while a partition has fewer in-sync replicas than this. */
  minInsync: number;
  /** How long a down node's replicas wait before they are copied elsewhere. */
  repairGraceMs: number;
}

export interface NodeRecord {
  readonly id: string;
  url: string;
  readonly publicKey: string;
  readonly zone: string | null;
  /** Relative capacity; the placement weight. */
  readonly capacity: number;
  state: NodeState;
  /** When `state` last changed (ms). */
  since: number;
  lastHeartbeat: number | null;
}

export interface PartitionRecord {
  /** Bumped by every change of the in-sync set or the primary; never decreases. */
  epoch: number;
  /** null only while the partition has no replica (before the first node, or lost). */
  primary: string | null;
  /** The in-sync set, primary included. */
  replicas: string[];
  /** Nodes catching up; each is the target of exactly one unfinished move. */
  learners: string[];
  /**
   * Set when this epoch began with a graceful handover: `from`, the primary of the
   * epoch before, gave up its read lease before it asked for the change, so the new
   * primary need not wait for promises made to it. Only meaningful while `epoch` equals
   * the record's epoch; meta drops it at the next epoch.
   */
  handover?: PartitionHandover;
}

export interface PartitionHandover {
  readonly from: string;
  readonly epoch: number;
}

export type PlanReason = 'node-down' | 'node-join' | 'node-remove' | 'node-up' | 'rebalance';
export type PlanState = 'active' | 'done' | 'cancelled';
export type MoveState = 'pending' | 'copying' | 'done' | 'failed';

export interface Move {
  readonly partition: number;
  /** The replica this move replaces (dropped when the move completes); null adds one. */
  readonly source: string | null;
  /** The node receiving the new replica (a learner until the move completes). */
  readonly target: string;
  state: MoveState;
  bytesDone: number;
  bytesTotal: number;
}

export interface Plan {
  readonly id: string;
  readonly reason: PlanReason;
  /** The node whose change caused the plan; null for an operator rebalance. */
  readonly node: string | null;
  readonly created: number;
  /** Copying may not start before this time (the repair grace period). */
  readonly notBefore: number;
  state: PlanState;
  readonly moves: Move[];
}

export interface MetaState {
  /** null until init-cluster. */
  settings: ClusterSettings | null;
  /** Meta group members, informational (Raft membership is the source of truth). */
  members: Record<string, string>;
  nodes: Record<string, NodeRecord>;
  /** Indexed by partition number; empty until init-cluster. */
  partitions: PartitionRecord[];
  /** Oldest first. Finished plans beyond a small history are pruned. */
  plans: Plan[];
  /** Used join-token id -> its expiry (ms); pruned once expired. */
  usedTokens: Record<string, number>;
  /** Revoked credential id -> its expiry (ms); pruned once expired. */
  revoked: Record<string, number>;
  /** Increases on every change of the partition map; watches long-poll on it. */
  version: number;
  /** The latest command time applied: time never runs backwards inside the machine. */
  clock: number;
  /** Sequence for plan ids. */
  nextPlan: number;
  /** Cluster counters, name -> value (counters.ts); shared between states, replaced on change. */
  counters: Readonly<Record<string, number>>;
}

/** How many finished plans are kept for `opera plans`. */
export const FINISHED_PLAN_HISTORY = 32;

export function emptyState(): MetaState {
  return {
    settings: null,
    members: {},
    nodes: {},
    partitions: [],
    plans: [],
    usedTokens: {},
    revoked: {},
    version: 0,
    clock: 0,
    nextPlan: 1,
    counters: {},
  };
}
