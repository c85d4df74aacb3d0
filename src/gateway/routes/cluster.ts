// Operator views (read-only): nodes, a cluster summary, re-replication and rebalancing
// plans. Read from meta with at most a second of staleness, so a dashboard polling
// several gateways does not turn into a read storm on meta.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { guard } from '../auth.js';
import { clusterView, nodesView, planView } from '../cluster-view.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';

const VIEW_ROLES = ['admin', 'client', 'sentinel', 'node'] as const;
const MAX_STALENESS_MS = 1000;

export const registerClusterRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.get('/v1/nodes', guard(g, VIEW_ROLES), async (ctx: Context) => {
    const state = await g.mapCache.state(MAX_STALENESS_MS);
    ctx.body = { mapVersion: state.version, nodes: nodesView(state) };
  });

  router.get('/v1/cluster', guard(g, VIEW_ROLES), async (ctx: Context) => {
    const [state, status] = await Promise.all([g.mapCache.state(MAX_STALENESS_MS), g.meta.status()]);
    ctx.body = clusterView(state, status);
  });

  router.get('/v1/plans', guard(g, VIEW_ROLES), async (ctx: Context) => {
    const state = await g.mapCache.state(MAX_STALENESS_MS);
    const now = g.now();
    ctx.body = { plans: state.plans.map((p) => planView(p, now)) };
  });
};
