// The shapes the gateway sends (GET /v1/console/view and /v1/console/events), mirroring
// src/gateway/console/view.ts and cluster-view.ts on the server.

export type NodeState = 'joining' | 'up' | 'suspect' | 'down' | 'draining' | 'removed';
export type PartitionHealth = 'replicated' | 'under-replicated' | 'moving' | 'unavailable';

export interface NodeStats {
  readonly reachable: boolean;
  readonly storedBytes: number | null;
  readonly storedObjects: number | null;
  readonly replicationLag: number | null;
  readonly copyBytesTotal: number | null;
}

export interface SentinelObservation {
  readonly sentinelId: string;
  readonly state: 'up' | 'suspect' | 'down';
  readonly atMs: number;
}

export interface ConsoleNode {
  readonly id: string;
  readonly url: string;
  readonly zone: string | null;
  readonly capacity: number;
  readonly state: NodeState;
  readonly since: number;
  readonly lastHeartbeat: number | null;
  readonly partitions: { readonly primary: number; readonly replica: number; readonly learner: number };
  readonly stats: NodeStats | null;
  readonly sentinels: readonly SentinelObservation[];
}

export interface PartitionCell {
  readonly partition: number;
  readonly epoch: number;
  readonly primary: string | null;
  readonly replicas: readonly string[];
  readonly learners: readonly string[];
  readonly health: PartitionHealth;
}

export interface PlanMove {
  readonly partition: number;
  readonly source: string | null;
  readonly target: string;
  readonly state: 'pending' | 'copying' | 'done' | 'failed';
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface Plan {
  readonly id: string;
  readonly reason: 'node-down' | 'node-join' | 'node-remove' | 'node-up' | 'rebalance';
  readonly node: string | null;
  readonly state: 'active' | 'done' | 'cancelled';
  readonly created: number;
  readonly notBefore: number;
  readonly moves: readonly PlanMove[];
  readonly progress: { readonly movesDone: number; readonly movesTotal: number; readonly bytesDone: number; readonly bytesTotal: number };
  readonly eta: { readonly seconds: number; readonly at: number; readonly bytesPerSecond: number } | null;
}

export interface MetaMember {
  readonly id: string;
  readonly url: string | null;
  readonly role: string;
  readonly healthy: boolean | null;
  readonly matchIndex: number | null;
}

export interface RequestPoint {
  readonly at: number;
  readonly requests: number;
  readonly errors: number;
  readonly meanMs: number | null;
  readonly p95Ms: number | null;
}

export interface TelemetrySample {
  readonly at: number;
  readonly replicationLag: number | null;
  readonly repairBytesPerSecond: number;
}

export interface ConsoleView {
  readonly at: number;
  readonly gateway: string;
  readonly clusterId: string | null;
  readonly mapVersion: number | null;
  readonly settings: { readonly partitions: number; readonly replication: number; readonly minInsync: number; readonly repairGraceMs: number } | null;
  readonly meta: {
    readonly answeredBy: string | null;
    readonly leader: string | null;
    readonly term: number | null;
    readonly commitIndex: number | null;
    readonly appliedIndex: number | null;
    readonly members: readonly MetaMember[];
    readonly error: string | null;
  };
  readonly nodes: readonly ConsoleNode[];
  readonly partitions: readonly PartitionCell[];
  readonly plans: readonly Plan[];
  readonly sentinelsVisible: boolean;
  readonly telemetry: { readonly requests: readonly RequestPoint[]; readonly samples: readonly TelemetrySample[] };
  readonly error: string | null;
}

export interface Whoami {
  readonly id: string;
  readonly role: string;
  readonly sub: string;
  readonly expiresAt: number;
}

export interface ObjectItem {
  readonly key: string;
  readonly version: number;
  readonly size: number;
  readonly contentType: string;
}
