// Partition commands: move progress and completion, plan cancellation, rebalancing and
// the PacificA-style reconfiguration of a partition's in-sync set.

import type { Command, MoveRef } from './commands.js';
import type { MetaState, Move, Plan } from './types.js';
import { invariant, reject } from './errors.js';
import { assignEmpty, chooseTarget, completeMove, failMove, rebalancePlan, retryPlan, startPlan, type MoveSpec } from './plans.js';
import type { HandlerResult } from './nodes.js';
import { canReceive, holders, isLive, isUnfinished, nodeOf, partitionAt, settingsOf } from './view.js';

type Of<T extends Command['type']> = Extract<Command, { type: T }>;

export function moveProgress(state: MetaState, cmd: Of<'move-progress'>, now: number): HandlerResult {
  const { plan, move } = openMove(state, cmd, now);
  move.state = 'copying';
  move.bytesDone = cmd.bytesDone;
  move.bytesTotal = cmd.bytesTotal;
  return { planId: plan.id };
}

export function moveDone(state: MetaState, cmd: Of<'move-done'>, now: number): HandlerResult {
  const { plan, move } = openMove(state, cmd, now);
  invariant(isLive(state, move.target), `learner ${move.target} of partition ${move.partition} is not live`);
  move.bytesTotal = cmd.bytesTotal ?? Math.max(move.bytesTotal, move.bytesDone);
  completeMove(state, plan, move);
  return { planId: plan.id };
}

/** A failed copy is tried again this much later, when its partition is still below R. */
export const MOVE_RETRY_DELAY_MS = 10_000;

export function moveFailed(state: MetaState, cmd: Of<'move-failed'>, now: number): HandlerResult {
  const { plan, move } = openMove(state, cmd, now, false);
  failMove(state, plan, move);
  retryPlan(state, plan, move, now, now + MOVE_RETRY_DELAY_MS);
  return { planId: plan.id };
}

export function planCancel(state: MetaState, cmd: Of<'plan-cancel'>): HandlerResult {
  const plan = planOf(state, cmd.planId);
  if (plan.state !== 'active') reject('move-finished', `plan "${plan.id}" is already ${plan.state}`);
  for (const move of plan.moves) if (isUnfinished(move)) failMove(state, plan, move, true);
  plan.state = 'cancelled';
  return { planId: plan.id };
}

export function rebalance(state: MetaState, now: number): HandlerResult {
  settingsOf(state);
  assignEmpty(state);
  const planId = rebalancePlan(state, now);
  return planId === null ? {} : { planId };
}

/**
 * Drops unresponsive replicas from the in-sync set and/or appoints a primary, in one
 * epoch. Guarded by the epoch the requester saw, so a stale view changes nothing.
 * Replicas dropped here are replaced at once (the dropped node itself, if placement
 * still wants it and it can receive, rejoins as a learner).
 */
export function partitionReconfigure(state: MetaState, cmd: Of<'partition-reconfigure'>, now: number): HandlerResult {
  const settings = settingsOf(state);
  const record = partitionAt(state, cmd.partition);
  if (cmd.expectedEpoch !== record.epoch) {
    reject('stale-epoch', `partition ${cmd.partition} is at epoch ${record.epoch}, not ${cmd.expectedEpoch}`);
  }
  const remove = cmd.remove ?? [];
  for (const id of remove) {
    if (!record.replicas.includes(id)) reject('conflict', `"${id}" is not in the in-sync set of partition ${cmd.partition}`);
  }
  const remaining = record.replicas.filter((id) => !remove.includes(id));
  if (remaining.length === 0) reject('data-loss', `partition ${cmd.partition} would be left without a replica`);
  const previous = record.primary;
  let primary = record.primary;
  if (cmd.leaseReleased === true && (cmd.primary === undefined || cmd.primary === previous)) {
    reject('conflict', `partition ${cmd.partition}: a lease release hands the partition to another replica`);
  }
  if (cmd.primary !== undefined) {
    if (!remaining.includes(cmd.primary)) {
      reject('conflict', `"${cmd.primary}" cannot be primary: it is not a remaining in-sync replica of partition ${cmd.partition}`);
    }
    if (!isLive(state, nodeOf(state, cmd.primary).id)) reject('conflict', `"${cmd.primary}" cannot be primary: it is ${nodeOf(state, cmd.primary).state}`);
    if (cmd.primary === record.primary && remove.length === 0) reject('conflict', `"${cmd.primary}" is already the primary`);
    primary = cmd.primary;
  } else if (primary !== null && remove.includes(primary)) {
    reject('conflict', `removing the primary "${primary}" of partition ${cmd.partition} needs a new primary in the same command`);
  }

  record.replicas = remaining;
  record.primary = primary;
  record.epoch += 1;
  // The proof the new primary acts on: the old one gave up its lease before this epoch.
  if (cmd.leaseReleased === true && previous !== null) record.handover = { from: previous, epoch: record.epoch };
  if (remove.length === 0) return {};

  const specs: MoveSpec[] = [];
  let missing = settings.replication - holders(state, cmd.partition).length;
  let elsewhere = false;
  while (missing > 0) {
    const exclude = new Set(specs.map((s) => s.target));
    const target = chooseTarget(state, cmd.partition, exclude);
    if (target === null) break;
    specs.push({ partition: cmd.partition, source: null, target });
    if (!remove.includes(target)) elsewhere = true;
    missing -= 1;
  }
  // A copy to another node waits the grace period (the dropped one may just be slow);
  // the dropped node catching up on its own copy can start now.
  const notBefore = elsewhere ? now + settings.repairGraceMs : now;
  const planId = startPlan(state, 'node-down', remove[0] ?? null, now, notBefore, specs);
  return planId === null ? {} : { planId };
}

/** A handover record proves something about one epoch only: drop it once the epoch moved on. */
export function dropStaleHandovers(state: MetaState): void {
  for (const record of state.partitions) {
    if (record.handover !== undefined && record.handover.epoch !== record.epoch) delete record.handover;
  }
}

function planOf(state: MetaState, planId: string): Plan {
  const plan = state.plans.find((p) => p.id === planId);
  if (plan === undefined) reject('unknown-plan', `unknown plan "${planId}"`);
  return plan;
}

/** The unfinished move a progress report names; copying may not start before the plan allows. */
function openMove(state: MetaState, ref: MoveRef, now: number, guardTime = true): { plan: Plan; move: Move } {
  settingsOf(state);
  const plan = planOf(state, ref.planId);
  const move = plan.moves.find((m) => m.partition === ref.partition && m.target === ref.target);
  if (move === undefined) reject('unknown-move', `plan "${plan.id}" has no move of partition ${ref.partition} to "${ref.target}"`);
  if (!isUnfinished(move)) reject('move-finished', `the move of partition ${ref.partition} to "${ref.target}" is already ${move.state}`);
  if (guardTime && now < plan.notBefore) {
    reject('too-early', `plan "${plan.id}" may not copy before ${plan.notBefore} (repair grace period)`);
  }
  invariant(canReceive(state, move.target) || isLive(state, move.target), `move target ${move.target} is gone`);
  return { plan, move };
}
