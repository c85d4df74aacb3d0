// The sentinel's Prometheus metrics. Labels are bounded sets (reasons, states, results),
// never node ids: the per-node detail is in the log and in meta.
import type { NodeState } from '../meta/types.js';
import { Histogram, metric } from '../common/prometheus.js';
import type { MissReason, NodeHealth } from './detector.js';

type Counts<K extends string> = Map<K, number>;

function bump<K extends string>(map: Counts<K>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export type SubmitResult = 'ok' | 'refused' | 'error';

export class SentinelMetrics {
  probes = 0;
  heartbeats = 0;
  readonly failures: Counts<MissReason> = new Map();
  readonly changes: Counts<NodeHealth> = new Map();
  readonly submissions: Counts<`${string}/${SubmitResult}`> = new Map();
  /** Reports or reads of observations that the LiveStore could not serve. */
  liveStoreErrors = 0;
  readonly probeSeconds = new Histogram('opera_sentinel_probe_seconds', 'Latency of successful health probes', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);

  /** Set by the sentinel: how many nodes it currently sees in each state, and meta's view. */
  nodesLocal: () => Partial<Record<NodeHealth, number>> = () => ({});
  nodesMeta: () => Partial<Record<NodeState, number>> = () => ({});

  probed(result: { ok: true; latencyMs: number } | { ok: false; reason: MissReason }): void {
    this.probes++;
    if (result.ok) this.probeSeconds.observe(result.latencyMs / 1000);
    else bump(this.failures, result.reason);
  }

  changed(to: NodeHealth): void {
    bump(this.changes, to);
  }

  submitted(state: string, result: SubmitResult): void {
    bump(this.submissions, `${state}/${result}`);
  }

  render(): string {
    const local = this.nodesLocal();
    const meta = this.nodesMeta();
    return [
      metric('opera_sentinel_probes_total', 'counter', 'Health probes sent', [{ value: this.probes }]),
      metric('opera_sentinel_probe_failures_total', 'counter', 'Health probes that failed, by reason',
        [...this.failures].map(([reason, value]) => ({ value, labels: { reason } }))),
      this.probeSeconds.render(),
      metric('opera_sentinel_heartbeats_total', 'counter', 'Node heartbeats received', [{ value: this.heartbeats }]),
      metric('opera_sentinel_state_changes_total', 'counter', 'Changes of this sentinel\'s view of a node, by new state',
        [...this.changes].map(([state, value]) => ({ value, labels: { state } }))),
      metric('opera_sentinel_meta_submissions_total', 'counter', 'node-state commands sent to meta, by state and result',
        [...this.submissions].map(([key, value]) => {
          const [state, result] = key.split('/');
          return { value, labels: { state: state!, result: result! } };
        })),
      metric('opera_sentinel_live_store_errors_total', 'counter', 'Observation reports or reads the LiveStore could not serve',
        [{ value: this.liveStoreErrors }]),
      metric('opera_sentinel_nodes', 'gauge', 'Nodes by this sentinel\'s view of their health',
        (['up', 'suspect', 'down'] as const).map((state) => ({ value: local[state] ?? 0, labels: { state } }))),
      metric('opera_sentinel_meta_nodes', 'gauge', 'Nodes by their state in meta, as this sentinel last read it',
        Object.entries(meta).map(([state, value]) => ({ value: value ?? 0, labels: { state } }))),
    ].join('\n') + '\n';
  }
}
