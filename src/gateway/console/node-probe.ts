// What the console shows of each storage node beyond meta's record: bytes and objects
// stored and the replication lag of the partitions it leads, read from the node's own
// /metrics with the gateway's credential. Best effort: a node that does not answer in
// time is shown as unreachable, never holds up the rest.
import { maxOf, parsePrometheusText, sumOf } from '../../common/prometheus-text.js';

export interface NodeStats {
  readonly reachable: boolean;
  readonly storedBytes: number | null;
  readonly storedObjects: number | null;
  /** Largest lag (sequence numbers) over the partitions it is primary of; null when none. */
  readonly replicationLag: number | null;
  /** Bytes of partition copies received so far (a counter). */
  readonly copyBytesTotal: number | null;
}

export const UNREACHABLE: NodeStats = { reachable: false, storedBytes: null, storedObjects: null, replicationLag: null, copyBytesTotal: null };

export async function probeNode(url: string, token: string, timeoutMs: number): Promise<NodeStats> {
  try {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return UNREACHABLE;
    const samples = parsePrometheusText(text);
    return {
      reachable: true,
      storedBytes: sumOf(samples, 'opera_node_stored_bytes'),
      storedObjects: sumOf(samples, 'opera_node_stored_objects'),
      replicationLag: maxOf(samples, 'opera_node_replication_lag'),
      copyBytesTotal: sumOf(samples, 'opera_node_partition_copy_bytes_total'),
    };
  } catch {
    return UNREACHABLE;
  }
}
