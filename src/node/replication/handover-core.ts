// Graceful handover of a partition's primary role, the pure part: whom to hand to (the
// placement's preferred replica for balance, the most caught-up healthy replica for a
// drain) and when the old primary may give its lease up (no write in flight, every
// write on every in-sync replica). No I/O, no clock: the shell (handover.ts) passes the
// time and acts on the answers.
import type { NodeRecord, PartitionRecord } from '../../meta/types.js';
import { placeReplicas, type PlacementNode } from '../../meta/placement.js';
import type { PrimaryCore } from './primary-core.js';

export type NodeTable = Readonly<Record<string, NodeRecord>>;

/** The nodes placement ranks (as meta's view.ts: joining, up and suspect). */
export function placementOf(nodes: NodeTable): PlacementNode[] {
  return Object.values(nodes)
    .filter((n) => n.state === 'joining' || n.state === 'up' || n.state === 'suspect')
    .map((n) => (n.zone === null ? { id: n.id, weight: n.capacity } : { id: n.id, weight: n.capacity, zone: n.zone }));
}

/** The placement's preferred primary of a partition: the first of its rendezvous order. */
export function preferredPrimary(partition: number, nodes: NodeTable, replication: number): string | null {
  const placed = placementOf(nodes);
  if (placed.length === 0) return null;
  return placeReplicas(partition, placed, replication)[0] ?? null;
}

export interface BalanceInput {
  readonly partition: number;
  readonly record: PartitionRecord;
  readonly nodes: NodeTable;
  readonly replication: number;
  readonly self: string;
  readonly core: PrimaryCore;
  /** How long the core has been active (ms); a fresh primary first settles. */
  readonly activeForMs: number;
  readonly settleMs: number;
}

/**
 * The successor this primary should hand over to for balance, or null: the placement's
 * preferred node, once it is an up, fenced, fully caught-up in-sync replica, and only
 * while nothing else changes the partition (no learner copying from us, no removal).
 */
export function balanceTarget(input: BalanceInput): string | null {
  const { partition, record, nodes, self, core } = input;
  if (record.primary !== self || record.epoch !== core.epoch || record.learners.length > 0) return null;
  if (core.phase !== 'active' || core.handingOverTo !== null || core.failedMembers().length > 0) return null;
  if (input.activeForMs < input.settleMs) return null;
  const preferred = preferredPrimary(partition, nodes, input.replication);
  if (preferred === null || preferred === self || !record.replicas.includes(preferred)) return null;
  if (nodes[preferred]?.state !== 'up') return null;
  if (!core.fencedMembers().includes(preferred)) return null;
  return core.ackedSeq(preferred) === core.localSeq ? preferred : null;
}

/**
 * The successor of a draining primary: a healthy fenced replica on an up node, the one
 * holding the most of our log first, then by placement order. Null when there is none
 * (a single replica): the partition cannot be handed over.
 */
export function drainSuccessor(partition: number, nodes: NodeTable, replication: number, core: PrimaryCore): string | null {
  const healthy = core.fencedMembers().filter((id) => nodes[id]?.state === 'up');
  if (healthy.length === 0) return null;
  const order = placeReplicas(partition, placementOf(nodes), Math.max(replication, Object.keys(nodes).length));
  const rank = (id: string): number => {
    const i = order.indexOf(id);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...healthy].sort((a, b) => core.ackedSeq(b) - core.ackedSeq(a) || rank(a) - rank(b) || (a < b ? -1 : 1))[0]!;
}

export type HandoverReadiness =
  | { readonly kind: 'ready' }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'abort'; readonly reason: string };

/**
 * Whether the old primary may give its lease up now: writes are refused (the handover
 * began), none is still streaming into the store, and every in-sync replica, the
 * successor included, holds every write (so nothing acknowledged or in flight is lost,
 * and no client is left with an unknown outcome).
 */
export function handoverReadiness(core: PrimaryCore, to: string, writesInFlight: number): HandoverReadiness {
  if (core.phase !== 'active') return { kind: 'abort', reason: `the primary is ${core.phase}` };
  if (core.handingOverTo !== to) return { kind: 'abort', reason: `no handover to ${to} is under way` };
  if (!core.fencedMembers().includes(to)) return { kind: 'abort', reason: `the successor ${to} failed` };
  if (core.failedMembers().length > 0) return { kind: 'abort', reason: 'a replica is being removed' };
  if (writesInFlight > 0) return { kind: 'wait', reason: `${writesInFlight} writes still streaming` };
  const committed = core.committedSeq();
  if (committed < core.localSeq) return { kind: 'wait', reason: `sequences ${committed + 1}..${core.localSeq} not on every replica yet` };
  return { kind: 'ready' };
}
