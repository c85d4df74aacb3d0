// Node lifecycle commands: join, heartbeat and state changes, with the plans they start.

import type { Command, TargetNodeState } from './commands.js';
import type { CounterResult } from './counters.js';
import type { MetaState, NodeState } from './types.js';
import { reject } from './errors.js';
import { assignEmpty, evacuate, failMove, joinPlan, restorePlan, type PlanOutcome } from './plans.js';
import { findNode, nodeOf, settingsOf, unfinishedMoves } from './view.js';

type Of<T extends Command['type']> = Extract<Command, { type: T }>;

export interface HandlerResult {
  planId?: string;
  unplaced?: number[];
  /** counter-add: the counter, the step added and its new value. */
  counter?: CounterResult;
}

/** Which states a node may be moved to from each state. `removed` is final. */
const TRANSITIONS: Record<NodeState, readonly TargetNodeState[]> = {
  joining: ['up', 'suspect', 'down', 'draining', 'removed'],
  up: ['suspect', 'down', 'draining', 'removed'],
  suspect: ['up', 'down', 'draining', 'removed'],
  down: ['up', 'removed'],
  // Not suspect: suspect -> up would silently end the drain. A failing draining node goes down.
  draining: ['up', 'down', 'removed'],
  removed: [],
};

export function nodeJoin(state: MetaState, cmd: Of<'node-join'>, now: number): HandlerResult {
  settingsOf(state);
  if (findNode(state, cmd.nodeId) !== undefined) reject('node-exists', `node "${cmd.nodeId}" already exists (node ids are never reused)`);
  if (Object.hasOwn(state.usedTokens, cmd.tokenId)) reject('token-used', `join token "${cmd.tokenId}" was already used`);
  if (cmd.tokenExpiresAt <= now) reject('token-expired', `join token "${cmd.tokenId}" expired at ${cmd.tokenExpiresAt}`);
  const twin = Object.values(state.nodes).find((n) => n.state !== 'removed' && n.publicKey === cmd.publicKey);
  if (twin !== undefined) reject('conflict', `node "${twin.id}" already uses this public key`);

  state.nodes[cmd.nodeId] = {
    id: cmd.nodeId,
    url: cmd.url,
    publicKey: cmd.publicKey,
    zone: cmd.zone ?? null,
    capacity: cmd.capacity,
    state: 'joining',
    since: now,
    lastHeartbeat: null,
  };
  assignEmpty(state);
  const planned = withPlan(joinPlan(state, cmd.nodeId, now));
  // Last: the token table is shared with the previous state (state.ts, draftOf).
  state.usedTokens[cmd.tokenId] = cmd.tokenExpiresAt;
  return planned;
}

export function nodeHeartbeat(state: MetaState, cmd: Of<'node-heartbeat'>, now: number): HandlerResult {
  const node = nodeOf(state, cmd.nodeId);
  if (node.state === 'removed') reject('bad-transition', `node "${node.id}" was removed; it must join again under a new id`);
  node.lastHeartbeat = now;
  if (cmd.url !== undefined) node.url = cmd.url;
  // The first heartbeat says the node serves; every other state change is the sentinel's call.
  if (node.state === 'joining') {
    node.state = 'up';
    node.since = now;
  }
  return {};
}

export function nodeState(state: MetaState, cmd: Of<'node-state'>, now: number): HandlerResult {
  const settings = settingsOf(state);
  const node = nodeOf(state, cmd.nodeId);
  const from = node.state;
  const to = cmd.state;
  if (from === to) reject('bad-transition', `node "${node.id}" is already ${to}`);
  if (!TRANSITIONS[from].includes(to)) reject('bad-transition', `node "${node.id}" cannot go from ${from} to ${to}`);
  if (to === 'removed' && cmd.force !== true) refuseDataLoss(state, node.id);

  node.state = to;
  node.since = now;
  switch (to) {
    case 'down':
      return outcome(evacuate(state, node.id, 'node-down', now, now + settings.repairGraceMs));
    case 'draining':
    case 'removed':
      return outcome(evacuate(state, node.id, 'node-remove', now, now));
    case 'up':
      if (from === 'down' || from === 'draining') cancelReplacements(state, node.id);
      return withPlan(restorePlan(state, node.id, now));
    case 'suspect':
      return {};
  }
}

/**
 * A node is back: the copies that would replace it are cancelled, but only where it is
 * still in the in-sync set. Where the primary already dropped it, the repair goes on.
 */
function cancelReplacements(state: MetaState, nodeId: string): void {
  for (const { plan, move } of unfinishedMoves(state)) {
    if (move.source !== nodeId) continue;
    if (plan.reason !== 'node-down' && plan.reason !== 'node-remove') continue;
    const record = state.partitions[move.partition];
    if (record !== undefined && record.replicas.includes(nodeId)) failMove(state, plan, move, true);
  }
}

/** Removing the last surviving copy of a partition needs `force`. */
function refuseDataLoss(state: MetaState, nodeId: string): void {
  const lost: number[] = [];
  state.partitions.forEach((record, partition) => {
    if (!record.replicas.includes(nodeId)) return;
    const others = record.replicas.filter((id) => id !== nodeId && findNode(state, id)?.state !== 'removed');
    if (others.length === 0) lost.push(partition);
  });
  if (lost.length > 0) {
    const shown = lost.slice(0, 10).join(', ') + (lost.length > 10 ? `, … (${lost.length} in all)` : '');
    reject('data-loss', `node "${nodeId}" holds the only copy of partitions ${shown}: drain it first, or pass force to accept the loss`);
  }
}

export function pruneExpired(record: Record<string, number>, now: number): void {
  for (const [id, expiresAt] of Object.entries(record)) if (expiresAt <= now) delete record[id];
}

function withPlan(planId: string | null): HandlerResult {
  return planId === null ? {} : { planId };
}

function outcome(o: PlanOutcome): HandlerResult {
  return { ...withPlan(o.planId), ...(o.unplaced.length > 0 ? { unplaced: o.unplaced } : {}) };
}
