// The client's copy of the partition map, from the gateway's /v1/map: where each key's
// partition lives. Refreshed when a node says our epoch is stale.
import { partitionOf } from '../meta/placement.js';
import { gatewayJson, type GatewayAccess } from './gateway-http.js';

export interface MapNode {
  readonly id: string;
  readonly url: string | null;
  readonly state: string;
}

export interface MapPartition {
  readonly partition: number;
  readonly epoch: number;
  readonly primary: string | null;
  readonly replicas: string[];
}

export interface PartitionMapView {
  readonly version: number;
  readonly partitionCount: number;
  readonly nodes: MapNode[];
  readonly partitions: MapPartition[];
}

export interface KeyRoute {
  readonly partition: number;
  readonly epoch: number;
  readonly primary: MapNode | null;
  readonly replicas: MapNode[];
}

/** Where the client learns the map from: the gateway over HTTP, or the gateway's own cache. */
export interface PartitionMapSource {
  current(): Promise<PartitionMapView>;
  refresh(): Promise<PartitionMapView>;
  route(key: string): Promise<KeyRoute>;
  partition(p: number): Promise<KeyRoute>;
}

export class ClientMap implements PartitionMapSource {
  private map: PartitionMapView | null = null;
  private loading: Promise<PartitionMapView> | null = null;

  constructor(private readonly access: GatewayAccess) {}

  async current(): Promise<PartitionMapView> {
    return this.map ?? this.refresh();
  }

  /** One fetch at a time; concurrent callers share it. */
  refresh(): Promise<PartitionMapView> {
    this.loading ??= gatewayJson<PartitionMapView>(this.access, 'GET', '/v1/map')
      .then((m) => (this.map = m))
      .finally(() => (this.loading = null));
    return this.loading;
  }

  async route(key: string): Promise<KeyRoute> {
    const map = await this.current();
    return routeIn(map, partitionOf(key, map.partitionCount));
  }

  async partition(p: number): Promise<KeyRoute> {
    return routeIn(await this.current(), p);
  }
}

export function routeIn(map: PartitionMapView, partition: number): KeyRoute {
  const rec = map.partitions[partition];
  if (!rec) throw new Error(`partition ${partition} is not in the map`);
  const node = (id: string): MapNode => map.nodes.find((n) => n.id === id) ?? { id, url: null, state: 'unknown' };
  return { partition, epoch: rec.epoch, primary: rec.primary ? node(rec.primary) : null, replicas: rec.replicas.map(node) };
}
