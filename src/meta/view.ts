// Read-only questions about a meta state, shared by the command handlers.

import type { PlacementNode } from './placement.js';
import { rankNodes } from './placement.js';
import type { ClusterSettings, MetaState, Move, NodeRecord, PartitionRecord, Plan } from './types.js';
import { reject } from './errors.js';

export function settingsOf(state: MetaState): ClusterSettings {
  if (state.settings === null) reject('not-initialized', 'the cluster is not initialized yet (init-cluster first)');
  return state.settings;
}

export function findNode(state: MetaState, id: string): NodeRecord | undefined {
  return Object.hasOwn(state.nodes, id) ? state.nodes[id] : undefined;
}

export function nodeOf(state: MetaState, id: string): NodeRecord {
  const node = findNode(state, id);
  if (node === undefined) reject('unknown-node', `unknown node "${id}"`);
  return node;
}

export function partitionAt(state: MetaState, partition: number): PartitionRecord {
  const settings = settingsOf(state);
  const record = state.partitions[partition];
  if (record === undefined) reject('invalid', `partition ${partition} does not exist (the cluster has ${settings.partitions})`);
  return record;
}

/** Still running and reachable as far as meta knows: may hold data that can be copied. */
export function isLive(state: MetaState, id: string): boolean {
  const s = findNode(state, id)?.state;
  return s === 'joining' || s === 'up' || s === 'suspect' || s === 'draining';
}

/** May be given new replicas. */
export function canReceive(state: MetaState, id: string): boolean {
  const s = findNode(state, id)?.state;
  return s === 'joining' || s === 'up';
}

export function toPlacement(node: NodeRecord): PlacementNode {
  return node.zone === null ? { id: node.id, weight: node.capacity } : { id: node.id, weight: node.capacity, zone: node.zone };
}

/** The nodes placement ranks. Suspects stay in so a flapping node does not reshuffle data. */
export function placementNodes(state: MetaState): PlacementNode[] {
  return Object.values(state.nodes)
    .filter((n) => n.state === 'joining' || n.state === 'up' || n.state === 'suspect')
    .map(toPlacement);
}

export function receivers(state: MetaState): PlacementNode[] {
  return Object.values(state.nodes)
    .filter((n) => canReceive(state, n.id))
    .map(toPlacement);
}

export interface MoveAt {
  readonly plan: Plan;
  readonly move: Move;
}

export function isUnfinished(move: Move): boolean {
  return move.state === 'pending' || move.state === 'copying';
}

export function unfinishedMoves(state: MetaState, partition?: number): MoveAt[] {
  const out: MoveAt[] = [];
  for (const plan of state.plans) {
    if (plan.state !== 'active') continue;
    for (const move of plan.moves) {
      if (isUnfinished(move) && (partition === undefined || move.partition === partition)) out.push({ plan, move });
    }
  }
  return out;
}

/**
 * Who will hold the partition once the moves under way complete: the learners, and the
 * replicas no move is replacing. (A source already gone from the in-sync set, say by a
 * reconfiguration, no longer counts as leaving: completing its move drops nothing.)
 */
export function holders(state: MetaState, partition: number): string[] {
  const record = state.partitions[partition] as PartitionRecord;
  const leaving = new Set(unfinishedMoves(state, partition).map((m) => m.move.source));
  return [...record.replicas.filter((id) => !leaving.has(id)), ...record.learners];
}

export function liveReplicaCount(state: MetaState, partition: number): number {
  return (state.partitions[partition] as PartitionRecord).replicas.filter((id) => isLive(state, id)).length;
}

/** The preferred primary among candidates: nodes that are up first, then live ones, then by placement rank. */
export function pickPrimary(state: MetaState, partition: number, candidates: readonly string[]): string | null {
  if (candidates.length === 0) return null;
  const tier = (id: string): number => (findNode(state, id)?.state === 'up' ? 0 : isLive(state, id) ? 1 : 2);
  const ranked = rankNodes(partition, candidates.map((id) => toPlacement(nodeOf(state, id))));
  const best = ranked.map((n) => n.id).sort((a, b) => tier(a) - tier(b))[0];
  return best ?? null;
}

/** Partitions whose in-sync set has fewer than R nodes in state `up`. */
export function underReplicated(state: MetaState): number[] {
  const r = state.settings?.replication ?? 0;
  const out: number[] = [];
  state.partitions.forEach((p, i) => {
    const up = p.replicas.filter((id) => findNode(state, id)?.state === 'up').length;
    if (up < r) out.push(i);
  });
  return out;
}
