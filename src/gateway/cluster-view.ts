// Read-only views of the meta state for operators: nodes, a cluster summary, plans with
// progress and an estimated time to completion. Pure functions of the state and a clock.
import type { MemberStatus } from '../meta/member.js';
import type { MetaState, Move, NodeState, Plan } from '../meta/types.js';
import { underReplicated } from '../meta/view.js';

export interface NodeView {
  readonly id: string;
  readonly url: string;
  readonly zone: string | null;
  readonly capacity: number;
  readonly state: NodeState;
  readonly since: number;
  readonly lastHeartbeat: number | null;
  /** How many partitions this node is primary of, replica of (primary included), learner of. */
  readonly partitions: { readonly primary: number; readonly replica: number; readonly learner: number };
}

export function nodesView(state: MetaState): NodeView[] {
  const counts = new Map<string, { primary: number; replica: number; learner: number }>();
  const countOf = (id: string): { primary: number; replica: number; learner: number } => {
    let c = counts.get(id);
    if (!c) counts.set(id, (c = { primary: 0, replica: 0, learner: 0 }));
    return c;
  };
  for (const p of state.partitions) {
    if (p.primary !== null) countOf(p.primary).primary += 1;
    for (const id of p.replicas) countOf(id).replica += 1;
    for (const id of p.learners) countOf(id).learner += 1;
  }
  return Object.values(state.nodes)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((n) => ({
      id: n.id, url: n.url, zone: n.zone, capacity: n.capacity, state: n.state, since: n.since, lastHeartbeat: n.lastHeartbeat,
      partitions: counts.get(n.id) ?? { primary: 0, replica: 0, learner: 0 },
    }));
}

export interface ClusterView {
  readonly clusterId: string | null;
  readonly settings: MetaState['settings'];
  readonly mapVersion: number;
  readonly meta: {
    readonly leader: string | null;
    readonly term: number;
    readonly members: { id: string; url: string | null; role: string | null; healthy: boolean | null }[];
  };
  readonly nodes: { readonly total: number; readonly byState: Partial<Record<NodeState, number>> };
  readonly partitions: { readonly total: number; readonly underReplicated: number; readonly withoutPrimary: number };
  readonly plans: { readonly active: number; readonly done: number; readonly cancelled: number };
}

export function clusterView(state: MetaState, status: MemberStatus | null): ClusterView {
  const byState: Partial<Record<NodeState, number>> = {};
  for (const n of Object.values(state.nodes)) byState[n.state] = (byState[n.state] ?? 0) + 1;
  const fromStatus = new Map((status?.members ?? []).map((m) => [m.id, m]));
  const ids = [...new Set([...Object.keys(state.members), ...fromStatus.keys()])].sort();
  return {
    clusterId: state.settings?.clusterId ?? null,
    settings: state.settings,
    mapVersion: state.version,
    meta: {
      leader: status?.leader ?? null,
      term: status?.term ?? 0,
      members: ids.map((id) => {
        const m = fromStatus.get(id);
        return { id, url: m?.url ?? state.members[id] ?? null, role: m?.role ?? null, healthy: m?.healthy ?? null };
      }),
    },
    nodes: { total: Object.keys(state.nodes).length, byState },
    partitions: {
      total: state.partitions.length,
      underReplicated: underReplicated(state).length,
      withoutPrimary: state.partitions.filter((p) => p.primary === null).length,
    },
    plans: {
      active: state.plans.filter((p) => p.state === 'active').length,
      done: state.plans.filter((p) => p.state === 'done').length,
      cancelled: state.plans.filter((p) => p.state === 'cancelled').length,
    },
  };
}

export interface PlanView {
  readonly id: string;
  readonly reason: Plan['reason'];
  readonly node: string | null;
  readonly state: Plan['state'];
  readonly created: number;
  readonly notBefore: number;
  readonly moves: {
    partition: number; source: string | null; target: string; state: Move['state']; bytesDone: number; bytesTotal: number;
  }[];
  readonly progress: { readonly movesDone: number; readonly movesTotal: number; readonly bytesDone: number; readonly bytesTotal: number };
  /** null when unknown: the plan is finished, has not copied anything yet, or no total is known. */
  readonly eta: { readonly seconds: number; readonly at: number; readonly bytesPerSecond: number } | null;
}

export function planView(plan: Plan, nowMs: number): PlanView {
  const moves = plan.moves.map((m) => ({
    partition: m.partition, source: m.source, target: m.target, state: m.state, bytesDone: m.bytesDone, bytesTotal: m.bytesTotal,
  }));
  const bytesDone = moves.reduce((s, m) => s + m.bytesDone, 0);
  const bytesTotal = moves.reduce((s, m) => s + m.bytesTotal, 0);
  return {
    id: plan.id, reason: plan.reason, node: plan.node, state: plan.state, created: plan.created, notBefore: plan.notBefore, moves,
    progress: { movesDone: moves.filter((m) => m.state === 'done').length, movesTotal: moves.length, bytesDone, bytesTotal },
    eta: estimate(plan, nowMs),
  };
}

/**
 * Remaining bytes over the rate observed since copying could start (the later of
 * creation and the grace period's end). A move that has not reported its size yet is
 * assumed as large as the average of those that have.
 */
export function estimate(plan: Plan, nowMs: number): PlanView['eta'] {
  if (plan.state !== 'active') return null;
  const elapsedMs = nowMs - Math.max(plan.created, plan.notBefore);
  const copied = plan.moves.reduce((s, m) => s + m.bytesDone, 0);
  const known = plan.moves.filter((m) => m.bytesTotal > 0);
  if (elapsedMs <= 0 || copied <= 0 || known.length === 0) return null;
  const averageTotal = known.reduce((s, m) => s + m.bytesTotal, 0) / known.length;
  let remaining = 0;
  for (const m of plan.moves) {
    if (m.state !== 'pending' && m.state !== 'copying') continue;
    const total = m.bytesTotal > 0 ? m.bytesTotal : averageTotal;
    remaining += Math.max(0, total - m.bytesDone);
  }
  const bytesPerMs = copied / elapsedMs;
  const ms = remaining / bytesPerMs;
  return { seconds: Math.ceil(ms / 1000), at: Math.round(nowMs + ms), bytesPerSecond: Math.round(bytesPerMs * 1000) };
}
