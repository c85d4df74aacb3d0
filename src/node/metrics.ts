// The node's Prometheus metrics: request latency per route, replication lag per partition
// (on its primary: lastSeq minus the slowest replica's acknowledged sequence), bytes and
// objects stored, scrub results, copies and reconfigurations. Labels are bounded: route
// templates, status codes, partitions; never keys.
import { metric } from '../common/prometheus.js';
import { CounterVec, HistogramVec } from '../common/labelled-metrics.js';

export interface GaugeSnapshot {
  readonly storedBytes: number;
  readonly storedObjects: number;
  readonly tombstones: number;
  readonly primaries: number;
  readonly leases: number;
  /** Per partition this node is primary of. */
  readonly lag: readonly { partition: number; lag: number }[];
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class NodeMetrics {
  readonly requests = new HistogramVec('opera_node_request_duration_seconds', 'Node HTTP request latency by route', ['route', 'method', 'status'], LATENCY_BUCKETS);
  readonly scrubChecked = new CounterVec('opera_node_scrub_checked_total', 'Objects re-hashed by the scrubber', []);
  readonly scrubCorrupt = new CounterVec('opera_node_scrub_corrupt_total', 'Corrupt objects found by the scrubber, by reason', ['reason']);
  readonly scrubRuns = new CounterVec('opera_node_scrub_runs_total', 'Completed scrub passes', []);
  readonly readCorrupt = new CounterVec('opera_node_read_corrupt_total', 'Reads that found stored bytes not matching their digest', []);
  readonly copies = new CounterVec('opera_node_partition_copies_total', 'Partition copies received as a learner, by result', ['result']);
  readonly copyBytes = new CounterVec('opera_node_partition_copy_bytes_total', 'Bytes of partition copies received', []);
  readonly removals = new CounterVec('opera_node_replica_removals_total', 'In-sync replicas this node asked meta to remove, by reason', ['reason']);
  readonly campaigns = new CounterVec('opera_node_campaigns_total', 'Requests for a new primary, by outcome', ['outcome']);
  readonly handovers = new CounterVec('opera_node_handovers_total', 'Primary roles this node handed over gracefully, by reason', ['reason']);
  readonly tombstonesPurged = new CounterVec('opera_node_tombstones_purged_total', 'Tombstones purged after the retention period', []);

  constructor(private readonly gauges: () => GaugeSnapshot) {}

  render(): string {
    const g = this.gauges();
    return [
      this.requests.render(),
      metric('opera_node_stored_bytes', 'gauge', 'Bytes of live objects stored (ciphertext)', [{ value: g.storedBytes }]),
      metric('opera_node_stored_objects', 'gauge', 'Live objects stored', [{ value: g.storedObjects }]),
      metric('opera_node_tombstones', 'gauge', 'Tombstones stored', [{ value: g.tombstones }]),
      metric('opera_node_primary_partitions', 'gauge', 'Partitions this node is primary of', [{ value: g.primaries }]),
      metric('opera_node_lease_partitions', 'gauge', 'Partitions whose read lease this node holds', [{ value: g.leases }]),
      metric('opera_node_replication_lag', 'gauge', 'Primary lastSeq minus the slowest in-sync replica acknowledgement', g.lag.map((l) => ({ value: l.lag, labels: { partition: l.partition } }))),
      this.scrubChecked.render(),
      this.scrubCorrupt.render(),
      this.scrubRuns.render(),
      this.readCorrupt.render(),
      this.copies.render(),
      this.copyBytes.render(),
      this.removals.render(),
      this.campaigns.render(),
      this.handovers.render(),
      this.tombstonesPurged.render(),
    ].join('\n') + '\n';
  }
}
