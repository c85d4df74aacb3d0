// The meta state machine: apply(state, command, now) -> { state, result }.
//
// Deterministic by construction: no clock, no randomness, no I/O; time arrives as an
// argument (the leader stamps it into the log entry) and is clamped so it never runs
// backwards inside the machine. A command is validated first; an invalid one, or one
// the current state refuses, yields an error result and the unchanged state. An
// accepted one is applied to a private copy, whose invariants are checked before it
// is returned; the input state is never mutated, with one exception: the token tables
// (usedTokens, revoked) are shared by successive states and changed in place, only after
// every check of the command has passed (see draftOf).

import { validateCommand, type Command } from './commands.js';
import { counterAdd, type CounterResult } from './counters.js';
import { CommandRejected, reject, type RejectCode } from './errors.js';
import { checkInvariants, checkTransition } from './invariants.js';
import { dropStaleHandovers, moveDone, moveFailed, moveProgress, partitionReconfigure, planCancel, rebalance } from './moves.js';
import { nodeHeartbeat, nodeJoin, nodeState, pruneExpired, type HandlerResult } from './nodes.js';
import { dropOrphanedRemoved, prunePlans } from './plans.js';
import { emptyState, type MetaState, type PartitionRecord, type Plan } from './types.js';
import { settingsOf } from './view.js';

export { encodeState, decodeState } from './snapshot.js';
export type { Command } from './commands.js';
export type { MetaState } from './types.js';

export type ApplyResult =
  | { readonly ok: true; readonly version: number; readonly planId?: string; readonly unplaced?: readonly number[]; readonly counter?: CounterResult }
  | { readonly ok: false; readonly code: RejectCode; readonly message: string };

export interface ApplyOutcome {
  readonly state: MetaState;
  readonly result: ApplyResult;
}

export const DEFAULT_REPAIR_GRACE_MS = 300_000;

/** A majority of the replicas: 2 when R = 3, so an acknowledged write is never on one disk only. */
export function defaultMinInsync(replication: number): number {
  return Math.floor(replication / 2) + 1;
}

export function initialState(): MetaState {
  return emptyState();
}

/** Commands that cannot touch the partition map skip the map bookkeeping. */
const MAP_UNTOUCHED: ReadonlySet<Command['type']> = new Set(['meta-members', 'node-heartbeat', 'move-progress', 'revoke', 'settings', 'counter-add']);

export function apply(state: MetaState, command: unknown, nowMs: number): ApplyOutcome {
  try {
    if (!Number.isSafeInteger(nowMs) || nowMs < 0) reject('invalid', `apply: time must be a non-negative integer of ms, got ${String(nowMs)}`);
    const cmd = validateCommand(command);
    const now = Math.max(state.clock, nowMs);
    const draft = draftOf(state, cmd.type);
    const out = dispatch(draft, cmd, now);
    if (Math.floor(now / TOKEN_PRUNE_EVERY_MS) !== Math.floor(state.clock / TOKEN_PRUNE_EVERY_MS)) {
      pruneExpired(draft.revoked, now);
      pruneExpired(draft.usedTokens, now);
    }
    draft.clock = now;
    if (!MAP_UNTOUCHED.has(cmd.type)) {
      dropOrphanedRemoved(draft);
      prunePlans(draft);
      dropStaleHandovers(draft);
      if (JSON.stringify(draft.partitions) !== JSON.stringify(state.partitions)) draft.version = state.version + 1;
    }
    checkInvariants(draft);
    checkTransition(state, draft);
    return { state: draft, result: { ok: true, version: draft.version, ...out } };
  } catch (err) {
    if (err instanceof CommandRejected) return { state, result: { ok: false, code: err.code, message: err.message } };
    throw err;
  }
}

/**
 * Expired tokens are dropped from the tables when the clock crosses a minute boundary,
 * not on every command: a prune walks the whole table. An expired entry refuses nothing
 * that its expiry does not refuse already, so keeping it a little longer is harmless.
 */
const TOKEN_PRUNE_EVERY_MS = 60_000;

/** Commands that touch neither nodes, partitions nor plans share them with the input state. */
const MAP_FREE: ReadonlySet<Command['type']> = new Set(['meta-members', 'revoke', 'settings', 'counter-add']);

/**
 * A private, mutable copy for one command. Finished plans never change again, so they
 * are shared (and frozen, so a stray write fails loudly) instead of copied; so are the
 * nodes, partitions and plans for the commands that cannot touch them. The token tables
 * are shared and changed in place: copying them made every command cost time in
 * proportion to the live revocations, and their handlers write them last.
 */
function draftOf(s: MetaState, type: Command['type']): MetaState {
  const mapFree = MAP_FREE.has(type);
  return {
    settings: s.settings === null ? null : { ...s.settings },
    members: { ...s.members },
    nodes: mapFree ? freezeAll(s.nodes) : Object.fromEntries(Object.entries(s.nodes).map(([id, n]) => [id, { ...n }])),
    partitions: mapFree ? freezeAll(s.partitions) : s.partitions.map((p) => ({ ...p, replicas: [...p.replicas], learners: [...p.learners] })),
    plans: mapFree ? s.plans.map(freezePlan) : s.plans.map((p) => (p.state === 'active' ? { ...p, moves: p.moves.map((m) => ({ ...m })) } : freezePlan(p))),
    usedTokens: s.usedTokens,
    revoked: s.revoked,
    version: s.version,
    clock: s.clock,
    nextPlan: s.nextPlan,
    // Never changed in place: counter-add replaces the table (counters.ts).
    counters: s.counters,
  };
}

/** Freezes a shared table and its records (once: a frozen table stays frozen). */
function freezeAll<T extends object>(table: T): T {
  if (Object.isFrozen(table)) return table;
  for (const record of Object.values(table) as object[]) {
    for (const v of Object.values(record)) if (typeof v === 'object' && v !== null) Object.freeze(v);
    Object.freeze(record);
  }
  return Object.freeze(table);
}

function freezePlan(plan: Plan): Plan {
  if (!Object.isFrozen(plan)) {
    for (const m of plan.moves) Object.freeze(m);
    Object.freeze(plan.moves);
    Object.freeze(plan);
  }
  return plan;
}

function dispatch(state: MetaState, cmd: Command, now: number): HandlerResult {
  switch (cmd.type) {
    case 'init-cluster':
      return initCluster(state, cmd);
    case 'meta-members':
      state.members = Object.fromEntries(cmd.members.map((m) => [m.id, m.url]));
      return {};
    case 'node-join':
      return nodeJoin(state, cmd, now);
    case 'node-heartbeat':
      return nodeHeartbeat(state, cmd, now);
    case 'node-state':
      return nodeState(state, cmd, now);
    case 'move-progress':
      return moveProgress(state, cmd, now);
    case 'move-done':
      return moveDone(state, cmd, now);
    case 'move-failed':
      return moveFailed(state, cmd, now);
    case 'plan-cancel':
      return planCancel(state, cmd);
    case 'rebalance':
      return rebalance(state, now);
    case 'partition-reconfigure':
      return partitionReconfigure(state, cmd, now);
    case 'revoke':
      settingsOf(state);
      // Revoking an expired credential changes nothing; revoking twice keeps the later expiry.
      if (cmd.expiresAt > now) {
        const known = Object.hasOwn(state.revoked, cmd.credentialId) ? (state.revoked[cmd.credentialId] as number) : 0;
        state.revoked[cmd.credentialId] = Math.max(cmd.expiresAt, known);
      }
      return {};
    case 'counter-add':
      return counterAdd(state, cmd);
    case 'settings': {
      const settings = settingsOf(state);
      if (cmd.minInsync !== undefined && cmd.minInsync > settings.replication) {
        reject('invalid', `settings: minInsync ${cmd.minInsync} exceeds the replication factor ${settings.replication}`);
      }
      if (cmd.minInsync !== undefined) settings.minInsync = cmd.minInsync;
      if (cmd.repairGraceMs !== undefined) settings.repairGraceMs = cmd.repairGraceMs;
      return {};
    }
  }
}

function initCluster(state: MetaState, cmd: Extract<Command, { type: 'init-cluster' }>): HandlerResult {
  if (state.settings !== null) reject('already-initialized', `the cluster "${state.settings.clusterId}" is already initialized`);
  state.settings = {
    clusterId: cmd.clusterId,
    partitions: cmd.partitions,
    replication: cmd.replication,
    minInsync: cmd.minInsync ?? defaultMinInsync(cmd.replication),
    repairGraceMs: cmd.repairGraceMs ?? DEFAULT_REPAIR_GRACE_MS,
  };
  state.partitions = Array.from({ length: cmd.partitions }, (): PartitionRecord => ({ epoch: 0, primary: null, replicas: [], learners: [] }));
  if (cmd.members !== undefined) state.members = Object.fromEntries(cmd.members.map((m) => [m.id, m.url]));
  return {};
}
