// `opera status`, `opera nodes`, `opera plans`: the cluster as the gateway sees it.
import { gatewayJson, type GatewayAccess } from '../../client/gateway-http.js';
import { OperaCommand } from '../base.js';
import { GatewayClientCommand } from './objects.js';
import type { ClusterView, NodeView, PlanView } from '../../gateway/cluster-view.js';

abstract class ViewCommand extends GatewayClientCommand {
  protected async get<T>(path: string): Promise<T> {
    this.#access ??= this.access();
    return gatewayJson<T>(await this.#access, 'GET', path);
  }

  #access: Promise<GatewayAccess> | undefined;
}

export class StatusCommand extends ViewCommand {
  static override paths = [['status']];
  static override usage = OperaCommand.Usage({ description: 'Meta quorum, nodes, under-replicated partitions and plans in flight' });

  async run(): Promise<number> {
    const [cluster, nodes] = await Promise.all([this.get<ClusterView>('/v1/cluster'), this.get<{ nodes: NodeView[] }>('/v1/nodes')]);
    const out = {
      meta: { leader: cluster.meta.leader, term: cluster.meta.term, members: cluster.meta.members },
      nodes: nodes.nodes.map((n) => ({ id: n.id, state: n.state, url: n.url, zone: n.zone })),
      partitions: { total: cluster.partitions.total, underReplicated: cluster.partitions.underReplicated },
      plans: { active: cluster.plans.active, done: cluster.plans.done },
    };
    const lines = [
      `cluster ${cluster.clusterId ?? '?'}  map version ${cluster.mapVersion}`,
      `meta     leader ${out.meta.leader ?? '(none)'}  term ${out.meta.term}  ` +
        out.meta.members.map((m) => `${m.id}${m.healthy === false ? '(unhealthy)' : ''}`).join(' '),
      `nodes    ${out.nodes.map((n) => `${n.id}:${n.state}`).join('  ') || '(none)'}`,
      `parts    ${out.partitions.total} total, ${out.partitions.underReplicated} under-replicated`,
      `plans    ${out.plans.active} active, ${out.plans.done} done`,
    ];
    this.out(lines.join('\n'), out);
    return 0;
  }
}

export class NodesCommand extends ViewCommand {
  static override paths = [['nodes']];
  static override usage = OperaCommand.Usage({ description: 'Storage nodes: state, zone, partitions held' });

  async run(): Promise<number> {
    const { nodes } = await this.get<{ nodes: NodeView[] }>('/v1/nodes');
    const lines = nodes.map((n) =>
      `${n.id.padEnd(12)} ${n.state.padEnd(9)} zone ${(n.zone ?? '-').padEnd(8)} primary ${String(n.partitions.primary).padStart(3)}  replica ${String(n.partitions.replica).padStart(3)}  learner ${n.partitions.learner}  ${n.url}`);
    this.out(lines.join('\n') || '(no nodes)', { nodes });
    return 0;
  }
}

export class PlansCommand extends ViewCommand {
  static override paths = [['plans']];
  static override usage = OperaCommand.Usage({ description: 'Re-replication and rebalancing plans: reason, moves, bytes done and to do, ETA' });

  async run(): Promise<number> {
    const { plans } = await this.get<{ plans: PlanView[] }>('/v1/plans');
    const lines = plans.map((p) => {
      const eta = p.eta ? `eta ${Math.ceil(p.eta.seconds)}s` : '';
      return `${p.id}  ${p.state.padEnd(9)} ${p.reason.padEnd(10)} ${p.node ?? ''}  moves ${p.progress.movesDone}/${p.progress.movesTotal}  bytes ${p.progress.bytesDone}/${p.progress.bytesTotal}  ${eta}`;
    });
    this.out(lines.join('\n') || '(no plans)', { plans });
    return 0;
  }
}

export const clusterCommands = [StatusCommand, NodesCommand, PlansCommand];
