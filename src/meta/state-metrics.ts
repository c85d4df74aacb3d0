// Gauges of the cluster's health as this member's applied state has it: what an operator
// alerts on while repair runs (under-replicated partitions, plans and bytes to copy).
import { metric } from '../common/prometheus.js';
import type { MetaState, NodeState } from './types.js';
import { isUnfinished, underReplicated } from './view.js';

const NODE_STATES: readonly NodeState[] = ['joining', 'up', 'suspect', 'down', 'draining', 'removed'];

export function renderStateMetrics(state: MetaState, member: string): string {
  const counts = new Map<NodeState, number>(NODE_STATES.map((s) => [s, 0]));
  for (const n of Object.values(state.nodes)) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
  const active = state.plans.filter((p) => p.state === 'active');
  const moves = active.flatMap((p) => p.moves).filter(isUnfinished);
  const remaining = moves.reduce((sum, m) => sum + Math.max(0, m.bytesTotal - m.bytesDone), 0);
  return [
    metric('opera_cluster_partitions', 'gauge', 'Partitions in the map', [{ value: state.partitions.length, labels: { member } }]),
    metric('opera_cluster_partitions_under_replicated', 'gauge', 'Partitions with fewer than R in-sync replicas on nodes that are up',
      [{ value: underReplicated(state).length, labels: { member } }]),
    metric('opera_cluster_partitions_without_primary', 'gauge', 'Partitions with no primary',
      [{ value: state.partitions.filter((p) => p.primary === null).length, labels: { member } }]),
    metric('opera_cluster_nodes', 'gauge', 'Storage nodes by state', NODE_STATES.map((s) => ({ value: counts.get(s) ?? 0, labels: { member, state: s } }))),
    metric('opera_cluster_plans_active', 'gauge', 'Re-replication and rebalancing plans in flight', [{ value: active.length, labels: { member } }]),
    metric('opera_cluster_moves_unfinished', 'gauge', 'Moves of active plans not yet done', [{ value: moves.length, labels: { member } }]),
    metric('opera_cluster_repair_bytes_remaining', 'gauge', 'Bytes still to copy by the moves in flight, as last reported by their learners',
      [{ value: remaining, labels: { member } }]),
  ].join('\n') + '\n';
}
