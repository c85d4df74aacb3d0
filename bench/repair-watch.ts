// What a repair looks like from outside: meta's cluster metrics (the leader's /metrics)
// and the gateway's view of the plans.
import type { OperaCluster } from './opera-cluster.js';

export interface RepairMetrics {
  underReplicated: number;
  bytesRemaining: number;
}

export interface PlanProgress {
  id: string;
  reason: string;
  node: string | null;
  state: 'active' | 'done' | 'cancelled';
  created: number;
  notBefore: number;
  moves: { target: string; bytesDone: number; bytesTotal: number }[];
  progress: { bytesDone: number; bytesTotal: number };
}

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The leader's repair metrics; undefined while no member answers as leader. */
export async function repairMetrics(c: OperaCluster): Promise<RepairMetrics | undefined> {
  for (const url of c.metaUrls) {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${c.token}` }, signal: AbortSignal.timeout(2000) }).catch(() => null);
    if (!res?.ok) continue;
    const text = await res.text();
    if (metric(text, 'opera_meta_is_leader') !== 1) continue;
    const under = metric(text, 'opera_cluster_partitions_under_replicated');
    const remaining = metric(text, 'opera_cluster_repair_bytes_remaining');
    if (under === undefined || remaining === undefined) throw new Error('meta /metrics has no opera_cluster_partitions_under_replicated or opera_cluster_repair_bytes_remaining');
    return { underReplicated: under, bytesRemaining: remaining };
  }
  return undefined;
}

export async function plans(c: OperaCluster): Promise<PlanProgress[]> {
  const res = await fetch(`${c.gateway}/v1/plans`, { headers: { authorization: `Bearer ${c.token}` }, signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`GET /v1/plans: HTTP ${res.status}`);
  return ((await res.json()) as { plans: PlanProgress[] }).plans;
}
