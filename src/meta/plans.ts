// Plans: the moves that bring the partition map back to what placement wants, and the
// bookkeeping of each move from learner to replica. Everything here mutates the draft
// state it is given (apply works on a private copy).

import { placeReplicas, planMoves, rankNodes } from './placement.js';
import type { MetaState, Move, PartitionRecord, Plan, PlanReason } from './types.js';
import { FINISHED_PLAN_HISTORY } from './types.js';
import { invariant } from './errors.js';
import {
  canReceive,
  findNode,
  holders,
  isLive,
  isUnfinished,
  liveReplicaCount,
  pickPrimary,
  placementNodes,
  receivers,
  settingsOf,
  unfinishedMoves,
} from './view.js';

export interface MoveSpec {
  readonly partition: number;
  readonly source: string | null;
  readonly target: string;
}

export interface PlanOutcome {
  readonly planId: string | null;
  /** Partitions that needed a new replica and could not get one (no target, or nothing to copy from). */
  readonly unplaced: number[];
}

/** Records a plan and makes every target a learner. No moves, no plan. */
export function startPlan(
  state: MetaState,
  reason: PlanReason,
  node: string | null,
  now: number,
  notBefore: number,
  specs: readonly MoveSpec[],
): string | null {
  if (specs.length === 0) return null;
  const id = `plan-${state.nextPlan}`;
  state.nextPlan += 1;
  const moves: Move[] = specs.map((s) => ({ ...s, state: 'pending', bytesDone: 0, bytesTotal: 0 }));
  for (const m of moves) {
    const record = state.partitions[m.partition] as PartitionRecord;
    invariant(!record.replicas.includes(m.target) && !record.learners.includes(m.target), `plan ${id}: ${m.target} already holds partition ${m.partition}`);
    record.learners.push(m.target);
  }
  state.plans.push({ id, reason, node, created: now, notBefore, state: 'active', moves });
  return id;
}

/** The best node to receive a new replica of a partition: placement's choice first, then any receiver by rank. */
export function chooseTarget(state: MetaState, partition: number, exclude: ReadonlySet<string>): string | null {
  const { replication } = settingsOf(state);
  const record = state.partitions[partition] as PartitionRecord;
  const taken = (id: string): boolean => exclude.has(id) || record.replicas.includes(id) || record.learners.includes(id);
  const preferred = placeReplicas(partition, placementNodes(state), replication).filter((id) => canReceive(state, id));
  const fallback = rankNodes(partition, receivers(state)).map((n) => n.id);
  return [...preferred, ...fallback].find((id) => !taken(id)) ?? null;
}

/**
 * Replaces what a node held or was receiving, because it went down, is draining or was
 * removed. The most endangered partitions (fewest live replicas) come first.
 */
export function evacuate(state: MetaState, nodeId: string, reason: PlanReason, now: number, notBefore: number): PlanOutcome {
  const { replication } = settingsOf(state);
  const wants: { partition: number; source: string | null }[] = [];
  for (const { plan, move } of unfinishedMoves(state)) {
    if (move.target !== nodeId) continue;
    failMove(state, plan, move);
    // A move off a healthy node was only rebalancing: it is dropped, not re-aimed.
    const sourceState = move.source === null ? null : findNode(state, move.source)?.state;
    const rebalancing = sourceState === 'up' || sourceState === 'joining' || sourceState === 'suspect';
    if (!rebalancing) wants.push({ partition: move.partition, source: move.source });
  }
  state.partitions.forEach((record, partition) => {
    const replacing = unfinishedMoves(state, partition).some((m) => m.move.source === nodeId);
    if (record.replicas.includes(nodeId) && !replacing) wants.push({ partition, source: nodeId });
  });
  wants.sort((a, b) => liveReplicaCount(state, a.partition) - liveReplicaCount(state, b.partition) || a.partition - b.partition);

  const specs: MoveSpec[] = [];
  const unplaced: number[] = [];
  for (const want of wants) {
    const remaining = holders(state, want.partition).filter((id) => id !== nodeId && id !== want.source);
    if (remaining.length >= replication) continue;
    const record = state.partitions[want.partition] as PartitionRecord;
    const hasCopySource = record.replicas.some((id) => isLive(state, id));
    const target = hasCopySource ? chooseTarget(state, want.partition, new Set([nodeId])) : null;
    if (target === null) unplaced.push(want.partition);
    else specs.push({ partition: want.partition, source: want.source, target });
  }
  return { planId: startPlan(state, reason, nodeId, now, notBefore, specs), unplaced };
}

/** A new node takes exactly the replicas placement now assigns to it, and nothing else moves. */
export function joinPlan(state: MetaState, nodeId: string, now: number): string | null {
  const { replication } = settingsOf(state);
  const nodes = placementNodes(state);
  const placed = new Map(nodes.map((n) => [n.id, n]));
  const specs: MoveSpec[] = [];
  state.partitions.forEach((record, partition) => {
    if (!record.replicas.some((id) => isLive(state, id))) return;
    const desired = placeReplicas(partition, nodes, replication);
    const current = holders(state, partition);
    if (!desired.includes(nodeId) || current.includes(nodeId)) return;
    if (current.length < replication) {
      specs.push({ partition, source: null, target: nodeId });
      return;
    }
    // Give way: replicas placement no longer wants, departed nodes first, then the worst-ranked.
    const candidates = current.filter((id) => record.replicas.includes(id) && !desired.includes(id));
    const gone = candidates.filter((id) => !placed.has(id));
    const stay = candidates.flatMap((id) => placed.get(id) ?? []);
    const source = [...gone, ...rankNodes(partition, stay).reverse().map((n) => n.id)][0];
    // Only a learner could give way: it is still arriving; a later rebalance settles it.
    if (source !== undefined) specs.push({ partition, source, target: nodeId });
  });
  return startPlan(state, 'node-join', nodeId, now, now, specs);
}

/**
 * Partitions left below R with nothing planned to fill them (the only candidates were
 * down when their replicas were lost, e.g. R nodes in all) get a copy now that `nodeId`
 * is back: placement's choice among the receivers, the returning node first where
 * placement wants it. A replica on a node that is down and not being replaced gives way.
 */
export function restorePlan(state: MetaState, nodeId: string, now: number): string | null {
  const { replication } = settingsOf(state);
  const specs: MoveSpec[] = [];
  state.partitions.forEach((record, partition) => {
    if (!record.replicas.some((id) => isLive(state, id))) return;
    const replacing = new Set(unfinishedMoves(state, partition).map((m) => m.move.source));
    const live = holders(state, partition).filter((id) => isLive(state, id));
    const deadWeight = record.replicas.filter((id) => !isLive(state, id) && !replacing.has(id));
    const exclude = new Set<string>();
    for (let missing = replication - live.length; missing > 0; missing--) {
      const target = chooseTarget(state, partition, exclude);
      if (target === null) break;
      exclude.add(target);
      specs.push({ partition, source: deadWeight.shift() ?? null, target });
    }
  });
  return startPlan(state, 'node-up', nodeId, now, now, specs);
}

/**
 * After a move failed, its partition is planned again when it is left below R with
 * nothing arriving: the same reason and node, placement's choice of target (often the
 * same node), copying not before `notBefore` so that a failure that persists costs a
 * bounded amount of work.
 */
export function retryPlan(state: MetaState, plan: Plan, move: Move, now: number, notBefore: number): string | null {
  const { replication } = settingsOf(state);
  const record = state.partitions[move.partition] as PartitionRecord;
  if (!record.replicas.some((id) => isLive(state, id))) return null;
  const live = holders(state, move.partition).filter((id) => isLive(state, id));
  if (live.length >= replication) return null;
  const target = chooseTarget(state, move.partition, new Set());
  if (target === null) return null;
  const source = move.source !== null && record.replicas.includes(move.source) && !unfinishedMoves(state, move.partition).some((m) => m.move.source === move.source)
    ? move.source : null;
  return startPlan(state, plan.reason, plan.node, now, notBefore, [{ partition: move.partition, source, target }]);
}

/** Moves everything placement wants moved, among the nodes that can receive. */
export function rebalancePlan(state: MetaState, now: number): string | null {
  const { replication } = settingsOf(state);
  const before = state.partitions.map((_, p) => holders(state, p));
  const specs: MoveSpec[] = [];
  for (const m of planMoves(before, placementNodes(state), replication)) {
    const record = state.partitions[m.partition] as PartitionRecord;
    if (m.target === null || !canReceive(state, m.target)) continue;
    if (record.replicas.includes(m.target) || record.learners.includes(m.target)) continue;
    if (m.source !== null && !record.replicas.includes(m.source)) continue;
    if (!record.replicas.some((id) => isLive(state, id))) continue;
    specs.push({ partition: m.partition, source: m.source, target: m.target });
  }
  return startPlan(state, 'rebalance', null, now, now, specs);
}

/** Partitions with no replica and no learner (no nodes yet, or lost) get placement's nodes directly. */
export function assignEmpty(state: MetaState): void {
  const { replication } = settingsOf(state);
  const nodes = receivers(state);
  if (nodes.length === 0) return;
  state.partitions.forEach((record, partition) => {
    if (record.replicas.length > 0 || record.learners.length > 0) return;
    record.replicas = placeReplicas(partition, nodes, replication);
    record.primary = record.replicas[0] ?? null;
    record.epoch += 1;
  });
}

/** The learner becomes a replica and the replica it replaces leaves the map: one epoch. */
export function completeMove(state: MetaState, plan: Plan, move: Move): void {
  const record = state.partitions[move.partition] as PartitionRecord;
  record.learners = record.learners.filter((id) => id !== move.target);
  record.replicas.push(move.target);
  if (move.source !== null && record.replicas.includes(move.source)) dropReplica(state, move.partition, move.source);
  record.epoch += 1;
  move.state = 'done';
  move.bytesDone = move.bytesTotal;
  settlePlan(plan, false);
}

export function failMove(state: MetaState, plan: Plan, move: Move, cancelled = false): void {
  invariant(isUnfinished(move), `plan ${plan.id}: failing a finished move`);
  const record = state.partitions[move.partition] as PartitionRecord;
  record.learners = record.learners.filter((id) => id !== move.target);
  move.state = 'failed';
  settlePlan(plan, cancelled);
}

/** Removes a replica; a new primary is picked when it was the primary. Does not bump the epoch. */
export function dropReplica(state: MetaState, partition: number, nodeId: string): void {
  const record = state.partitions[partition] as PartitionRecord;
  record.replicas = record.replicas.filter((id) => id !== nodeId);
  if (record.primary === nodeId) record.primary = pickPrimary(state, partition, record.replicas);
}

/** A plan with nothing left to do is done (or cancelled, when asked or when nothing ever completed). */
export function settlePlan(plan: Plan, cancelled: boolean): void {
  if (plan.state !== 'active' || plan.moves.some(isUnfinished)) return;
  plan.state = cancelled && !plan.moves.some((m) => m.state === 'done') ? 'cancelled' : 'done';
}

/**
 * A removed node keeps a replica only while a move is replacing it. Once no move is
 * (it failed, or nothing could be placed), the replica leaves the map now.
 */
export function dropOrphanedRemoved(state: MetaState): void {
  const removed = new Set(Object.values(state.nodes).filter((n) => n.state === 'removed').map((n) => n.id));
  state.partitions.forEach((record, partition) => {
    if (!record.replicas.some((id) => removed.has(id))) return;
    const replacing = new Set(unfinishedMoves(state, partition).map((m) => m.move.source));
    const orphans = record.replicas.filter((id) => removed.has(id) && !replacing.has(id));
    if (orphans.length === 0) return;
    for (const id of orphans) dropReplica(state, partition, id);
    record.epoch += 1;
    if (record.replicas.length === 0) {
      // Lost: nothing left to copy from, so anything still arriving has no source either.
      for (const { plan, move } of unfinishedMoves(state, partition)) failMove(state, plan, move);
    }
  });
}

/** Keeps every active plan and the most recent finished ones. */
export function prunePlans(state: MetaState): void {
  const finished = state.plans.filter((p) => p.state !== 'active');
  if (finished.length <= FINISHED_PLAN_HISTORY) return;
  const drop = new Set(finished.slice(0, finished.length - FINISHED_PLAN_HISTORY).map((p) => p.id));
  state.plans = state.plans.filter((p) => !drop.has(p.id));
}
