// The cluster-health gauges on meta's /metrics follow the state: a node down makes its
// partitions under-replicated and a plan active with its moves unfinished; the plan's
// completion brings every gauge back.
import t from 'tap';
import { renderStateMetrics } from '../../src/meta/state-metrics.js';
import { Driver } from './helpers.js';

function gauge(text: string, name: string, labels = 'member="m1"'): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  if (line === undefined) throw new Error(`no ${name}{${labels}} in\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('gauges through a node loss and its repair', async (t) => {
  const d = new Driver().init(16, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  let text = renderStateMetrics(d.state, 'm1');
  t.equal(gauge(text, 'opera_cluster_partitions'), 16);
  t.equal(gauge(text, 'opera_cluster_partitions_under_replicated'), 0);
  t.equal(gauge(text, 'opera_cluster_nodes', 'member="m1",state="up"'), 4);
  t.equal(gauge(text, 'opera_cluster_plans_active'), 0);

  const held = d.state.partitions.filter((p) => p.replicas.includes('n1')).length;
  const down = d.ok({ type: 'node-state', nodeId: 'n1', state: 'down' }, 10_000);
  text = renderStateMetrics(d.state, 'm1');
  t.equal(gauge(text, 'opera_cluster_partitions_under_replicated'), held, 'every partition n1 held is under-replicated');
  t.equal(gauge(text, 'opera_cluster_nodes', 'member="m1",state="down"'), 1);
  t.equal(gauge(text, 'opera_cluster_plans_active'), 1);
  t.equal(gauge(text, 'opera_cluster_moves_unfinished'), held);

  const move = d.state.plans[0]!.moves[0]!;
  d.ok({ type: 'move-progress', planId: down.planId!, partition: move.partition, target: move.target, bytesDone: 100, bytesTotal: 1000 }, 20_000);
  t.equal(gauge(renderStateMetrics(d.state, 'm1'), 'opera_cluster_repair_bytes_remaining'), 900, 'bytes to copy as the learner reported');

  d.finish(down.planId!);
  text = renderStateMetrics(d.state, 'm1');
  t.equal(gauge(text, 'opera_cluster_partitions_under_replicated'), 0, 'repaired');
  t.equal(gauge(text, 'opera_cluster_plans_active'), 0);
  t.equal(gauge(text, 'opera_cluster_repair_bytes_remaining'), 0);
});
