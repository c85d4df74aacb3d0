// Routing for direct-mode clients (docs/data-plane.md): where one key lives, and the
// whole partition map for clients that route by themselves.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { guard } from '../auth.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { MapNotLoadedError } from '../map-cache.js';

export const registerRoutingRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.get('/v1/route', guard(g, ['client', 'admin', 'gateway']), (ctx: Context) => {
    const key = ctx.query['key'];
    if (key === undefined) throw new ApiError(400, 'bad-request', 'the query needs ?key=<object key>');
    if (typeof key !== 'string') throw new ApiError(400, 'bad-request', 'give exactly one ?key=');
    ctx.body = g.mapCache.routeFor(key);
  });

  router.get('/v1/map', guard(g, ['client', 'admin', 'gateway', 'node', 'sentinel']), (ctx: Context) => {
    const map = g.mapCache.current();
    if (map === null) throw new MapNotLoadedError();
    ctx.body = {
      version: map.version,
      clusterId: map.settings.clusterId,
      partitionCount: map.settings.partitions,
      replication: map.settings.replication,
      nodes: Object.values(map.nodes).map((n) => ({ id: n.id, url: n.url, zone: n.zone, state: n.state })),
      partitions: map.partitions.map((p, partition) => ({ partition, epoch: p.epoch, primary: p.primary, replicas: p.replicas })),
    };
  });
};
