// Health, readiness, metrics, the API description and "who am I".
import type Router from '@koa/router';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { claimsOf, guard } from '../auth.js';
import { openApiDocument } from '../openapi.js';

const PROBE_ROLES = ['admin', 'client', 'gateway', 'node', 'sentinel'] as const;

export const registerHealthRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  // The only anonymous route: says the process serves HTTP, nothing about the cluster.
  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });

  // Needs a credential like everything but /healthz (DESIGN.md): give probes a token.
  router.get('/readyz', guard(g, PROBE_ROLES), async (ctx) => {
    const r = await g.readiness();
    ctx.status = r.ready ? 200 : 503;
    if (!r.ready) ctx.set('Retry-After', '1');
    ctx.body = { ready: r.ready, reasons: r.reasons };
  });

  router.get('/metrics', guard(g, ['admin', 'gateway', 'node', 'sentinel']), async (ctx) => {
    const readiness = await g.readiness();
    const map = g.mapCache.current();
    const contact = g.mapCache.lastContactMs;
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = g.metrics.render({
      mapVersion: map?.version ?? -1,
      metaLastContactSeconds: contact === null ? -1 : Math.max(0, (g.now() - contact) / 1000),
      ready: readiness.ready,
      revocationsCached: g.revocations.size,
    });
  });

  router.get('/v1/openapi.json', guard(g, PROBE_ROLES), (ctx) => {
    ctx.body = openApiDocument;
  });

  router.get('/v1/whoami', guard(g, ['admin', 'client', 'gateway', 'node', 'sentinel', 'join']), (ctx) => {
    const c = claimsOf(ctx);
    ctx.body = { id: c.id, role: c.role, sub: c.sub, issuedAt: c.iat * 1000, expiresAt: c.exp * 1000, ...(c.parent !== undefined ? { parent: c.parent } : {}) };
  });
};
