// The console's picture of the cluster at one instant: meta members, storage nodes with
// what they store and what the sentinels see, every partition with its health, the plans,
// and the newest telemetry. A pure function of what the feed gathered; the browser code
// (console/types.ts) mirrors these shapes.
import type { MemberStatus } from '../../meta/member.js';
import type { MetaState, NodeState, PartitionRecord } from '../../meta/types.js';
import { nodesView, planView, type NodeView, type PlanView } from '../cluster-view.js';
import type { SentinelObservation } from '../live-store/index.js';
import type { RequestPoint } from './request-history.js';
import type { NodeStats } from './node-probe.js';

export type PartitionHealth = 'replicated' | 'under-replicated' | 'moving' | 'unavailable';

export interface PartitionCell {
  readonly partition: number;
  readonly epoch: number;
  readonly primary: string | null;
  readonly replicas: readonly string[];
  readonly learners: readonly string[];
  readonly health: PartitionHealth;
}

export interface ConsoleNode extends NodeView {
  readonly stats: NodeStats | null;
  /** What each sentinel sharing this gateway's LiveStore currently sees of the node. */
  readonly sentinels: readonly SentinelObservation[];
}

export interface MetaMembersView {
  /** The member that answered the status call; null when none did. */
  readonly answeredBy: string | null;
  readonly leader: string | null;
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly members: readonly { id: string; url: string | null; role: string; healthy: boolean | null; matchIndex: number | null }[];
  /** Why the status is missing, when it is. */
  readonly error: string | null;
}

export interface TelemetrySample {
  readonly at: number;
  /** Largest replication lag over every reachable node (sequence numbers); null when no node reported one. */
  readonly replicationLag: number | null;
  /** Bytes copied by repair and rebalancing plans per second since the previous sample. */
  readonly repairBytesPerSecond: number;
}

export interface Telemetry {
  readonly requests: readonly RequestPoint[];
  readonly samples: readonly TelemetrySample[];
}

export interface ConsoleView {
  readonly at: number;
  readonly gateway: string;
  readonly clusterId: string | null;
  readonly mapVersion: number | null;
  readonly settings: MetaState['settings'];
  readonly meta: MetaMembersView;
  readonly nodes: readonly ConsoleNode[];
  readonly partitions: readonly PartitionCell[];
  readonly plans: readonly PlanView[];
  /** Whether any sentinel shares observations with this gateway (a shared LiveStore). */
  readonly sentinelsVisible: boolean;
  readonly telemetry: Telemetry;
  /** Why the meta state could not be read, when it could not (the rest is then empty). */
  readonly error: string | null;
}

export function partitionHealth(p: PartitionRecord, nodes: MetaState['nodes'], replication: number): PartitionHealth {
  const up = p.replicas.filter((id) => nodes[id]?.state === 'up').length;
  if (p.primary === null || up === 0) return 'unavailable';
  if (p.learners.length > 0) return 'moving';
  return up < replication ? 'under-replicated' : 'replicated';
}

export function metaMembersView(status: MemberStatus | null, error: string | null): MetaMembersView {
  if (status === null) return { answeredBy: null, leader: null, term: null, commitIndex: null, appliedIndex: null, members: [], error };
  return {
    answeredBy: status.id,
    leader: status.leader,
    term: status.term,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    members: status.members.map((m) => ({
      id: m.id, url: m.url, role: m.id === status.leader ? 'leader' : m.role, healthy: m.id === status.leader ? true : m.healthy, matchIndex: m.matchIndex,
    })),
    error: null,
  };
}

export interface ViewInputs {
  readonly now: number;
  readonly gateway: string;
  readonly state: MetaState | null;
  readonly stateError: string | null;
  readonly meta: MetaMembersView;
  readonly stats: ReadonlyMap<string, NodeStats>;
  readonly observations: ReadonlyMap<string, readonly SentinelObservation[]>;
  readonly telemetry: Telemetry;
}

export function consoleView(i: ViewInputs): ConsoleView {
  const s = i.state;
  const replication = s?.settings?.replication ?? 0;
  const nodes: ConsoleNode[] = s === null ? [] : nodesView(s)
    .filter((n) => n.state !== ('removed' satisfies NodeState))
    .map((n) => ({ ...n, stats: i.stats.get(n.id) ?? null, sentinels: i.observations.get(n.id) ?? [] }));
  return {
    at: i.now,
    gateway: i.gateway,
    clusterId: s?.settings?.clusterId ?? null,
    mapVersion: s?.version ?? null,
    settings: s?.settings ?? null,
    meta: i.meta,
    nodes,
    partitions: (s?.partitions ?? []).map((p, partition) => ({
      partition, epoch: p.epoch, primary: p.primary, replicas: p.replicas, learners: p.learners, health: partitionHealth(p, s!.nodes, replication),
    })),
    plans: (s?.plans ?? []).map((p) => planView(p, i.now)).reverse(),
    sentinelsVisible: [...i.observations.values()].some((o) => o.length > 0),
    telemetry: i.telemetry,
    error: i.stateError,
  };
}

/** The view with only the telemetry newer than `sinceMs`: what a live stream sends after its first view. */
export function withRecentTelemetry(view: ConsoleView, sinceMs: number): ConsoleView {
  return {
    ...view,
    telemetry: {
      requests: view.telemetry.requests.filter((p) => p.at >= sinceMs),
      samples: view.telemetry.samples.filter((s) => s.at >= sinceMs),
    },
  };
}
