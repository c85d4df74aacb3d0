// What the parts of a storage node share: its identity, store, map, meta commands, peers,
// lease book, timings, logger and metrics. Built once by StorageNode.
import type { Logger } from 'pino';
import type { MetaClient } from '../meta/client.js';
import type { MapView, SerialCommands } from './meta-link.js';
import type { NodeMetrics } from './metrics.js';
import type { PeerClient } from './replication/peers.js';
import type { ReplicaLeases } from './replication/replica-core.js';
import type { ReplicationTiming } from './replication/timing.js';
import type { NodeStore } from './store/index.js';
import type { KeyedMutex } from './store/keyed-mutex.js';
import type { TokenBucket } from './throttle.js';

export interface NodeContext {
  readonly self: string;
  readonly url: string;
  readonly store: NodeStore;
  readonly map: MapView;
  /** Meta commands about partitions (reconfigurations, moves), one at a time. */
  readonly control: SerialCommands;
  /** For full-state reads (plans, revocations). */
  readonly metaClient: MetaClient;
  readonly peers: PeerClient;
  readonly leases: ReplicaLeases;
  readonly timing: ReplicationTiming;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  /** Shared by every partition copy this node sends or receives. */
  readonly repairBucket: TokenBucket | null;
  /** Serializes batches applied to one partition (replication, adoption, catch-up). */
  readonly applyLocks: KeyedMutex<number>;
  /** Monotonic milliseconds (durations, leases). */
  now(): number;
}
