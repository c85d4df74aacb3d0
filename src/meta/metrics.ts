// Meta member metrics: term, commit and apply index, leader changes, fsync latency.
import { Histogram, metric } from '../common/prometheus.js';

export class MetaMetrics {
  private term = 0;
  private commit = 0;
  private applied = 0;
  private leaderChanges = 0;
  private readonly fsyncSeconds = new Histogram(
    'opera_meta_fsync_seconds', 'Raft log fdatasync latency',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );

  fsync(ms: number): void {
    this.fsyncSeconds.observe(ms / 1000);
  }

  observe(term: number, commit: number, applied: number): void {
    this.term = term;
    this.commit = commit;
    this.applied = applied;
  }

  leaderChanged(): void {
    this.leaderChanges++;
  }

  render(extra: { isLeader: boolean; member: string }): string {
    const labels = { member: extra.member };
    return [
      metric('opera_meta_term', 'gauge', 'Current Raft term', [{ value: this.term, labels }]),
      metric('opera_meta_commit_index', 'gauge', 'Raft commit index', [{ value: this.commit, labels }]),
      metric('opera_meta_applied_index', 'gauge', 'Index applied to the meta state', [{ value: this.applied, labels }]),
      metric('opera_meta_apply_lag', 'gauge', 'Committed entries not yet applied', [{ value: this.commit - this.applied, labels }]),
      metric('opera_meta_leader_changes_total', 'counter', 'Leader changes seen by this member', [{ value: this.leaderChanges, labels }]),
      metric('opera_meta_is_leader', 'gauge', '1 on the leader', [{ value: extra.isLeader ? 1 : 0, labels }]),
      this.fsyncSeconds.render(),
    ].join('\n') + '\n';
  }
}
