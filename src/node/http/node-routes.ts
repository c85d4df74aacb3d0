// The node's own routes: health (anonymous), metrics, an overview of its partitions, and a
// scrub pass on demand (admin).
import type { NodeContext } from '../context.js';
import type { PartitionRoles } from '../roles.js';
import type { Scrubber } from '../scrubber.js';
import type { RouteSpec, RequestGate } from './app.js';

const INSPECT = ['admin', 'node', 'sentinel', 'gateway', 'meta'] as const;

export function nodeRoutes(ctx: NodeContext, roles: PartitionRoles, scrubber: Scrubber, gate: RequestGate): RouteSpec[] {
  return [
    {
      method: ['GET', 'HEAD'], pattern: /^\/healthz$/, name: '/healthz', roles: null,
      handler: (k) => {
        // In flight besides this very request.
        k.body = { ok: !gate.draining, nodeId: ctx.self, draining: gate.draining, inFlight: Math.max(0, gate.inFlight - 1) };
      },
    },
    {
      method: ['GET'], pattern: /^\/metrics$/, name: '/metrics', roles: INSPECT,
      handler: (k) => {
        k.type = 'text/plain; version=0.0.4';
        k.body = ctx.metrics.render();
      },
    },
    {
      method: ['GET'], pattern: /^\/v1\/status$/, name: '/v1/status', roles: INSPECT,
      handler: async (k) => {
        const map = ctx.map.current;
        const now = ctx.now();
        const stats = new Map((await ctx.store.stats()).map((s) => [s.partition, s]));
        const partitions = (map?.partitions ?? []).map((record, p) => {
          const driver = roles.primary(p);
          const core = driver?.core ?? null;
          const s = stats.get(p);
          return {
            partition: p,
            role: roles.roleOf(p),
            epoch: record.epoch,
            lastSeq: s?.lastSeq ?? null,
            status: s?.status ?? null,
            objects: s?.objects ?? 0,
            bytes: s?.bytes ?? 0,
            ...(core !== null
              ? {
                  phase: core.phase, committedSeq: core.committedSeq(), lease: core.leaseValid(now),
                  leaseRemainingMs: core.leaseValid(now) ? Math.floor(core.leaseUntil() - now) : 0, handingOverTo: core.handingOverTo, replicas: core.lag(),
                }
              : {}),
          };
        });
        k.body = { nodeId: ctx.self, url: ctx.url, mapVersion: map?.version ?? null, partitions };
      },
    },
    {
      method: ['POST'], pattern: /^\/v1\/scrub$/, name: '/v1/scrub', roles: ['admin'],
      handler: async (k) => {
        k.body = await scrubber.runOnce();
      },
    },
  ];
}
