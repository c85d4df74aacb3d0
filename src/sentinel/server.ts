// The sentinel's own small HTTP listener (optional): node heartbeats, metrics, health.
// Every route but /healthz needs a credential signed by the cluster authority.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { allow, type AuthOptions } from '../common/auth.js';
import { ApiError, jsonErrors, readJson } from '../common/http-errors.js';
import type { Sentinel } from './sentinel.js';

export interface SentinelServerOptions {
  readonly sentinel: Sentinel;
  readonly authorityPublicKey: Uint8Array;
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
}

export interface RunningSentinelServer {
  /** http://HOST:PORT actually bound (port 0 picks one). */
  readonly url: string;
  close(): Promise<void>;
}

const METRICS_ROLES = ['admin', 'meta', 'gateway', 'node', 'sentinel'] as const;

export function sentinelApp(opts: Pick<SentinelServerOptions, 'sentinel' | 'authorityPublicKey' | 'log'>): Koa {
  const { sentinel, log } = opts;
  const auth: AuthOptions = { authorityPublicKey: opts.authorityPublicKey, isRevoked: (id) => sentinel.isRevoked(id) };
  const app = new Koa();
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true, id: sentinel.id };
  });

  router.get('/metrics', allow(auth, METRICS_ROLES), (ctx) => {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = sentinel.metrics.render();
  });

  // A node says it is alive. The node is the token's subject; a body may repeat it.
  router.post('/v1/heartbeat', allow(auth, ['node']), async (ctx) => {
    const nodeId = (ctx.state['claims'] as { sub: string }).sub;
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    const body = hasBody ? await readJson(ctx, 4096) : {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'bad-request', 'the body must be a JSON object');
    const named = (body as Record<string, unknown>)['nodeId'];
    if (named !== undefined && named !== nodeId) {
      throw new ApiError(403, 'forbidden', `a node credential for "${nodeId}" cannot send a heartbeat for "${String(named)}"`);
    }
    const view = sentinel.heartbeat(nodeId);
    if (view === null) throw new ApiError(404, 'unknown-node', `meta lists no live node "${nodeId}" (yet): join first, or wait for the sentinel to see the join`);
    ctx.body = { ok: true, nodeId, health: view.health, meta: view.meta };
  });

  app.use(jsonErrors((err, ctx) => log.error({ err, method: ctx.method, path: ctx.path }, 'unexpected error')));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

export async function startSentinelServer(opts: SentinelServerOptions): Promise<RunningSentinelServer> {
  const app = sentinelApp(opts);
  const server: Server = createServer(app.callback());
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
