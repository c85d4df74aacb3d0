// The node's Koa application: a small route table (object keys contain '/', so routes
// are matched on the raw path by regular expressions), bearer-token authentication per
// route, request latency per route template, and a gate that counts requests in flight
// and refuses new ones while the node drains.
import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import { authenticate, type AuthOptions } from '../../common/auth.js';
import { ApiError } from '../../common/http-errors.js';
import type { Role } from '../../crypto/tokens.js';
import type { NodeMetrics } from '../metrics.js';
import { nodeErrors } from './errors.js';

export interface RouteSpec {
  readonly method: readonly string[];
  /** Matched against the raw (still percent-encoded) path; groups become params. */
  readonly pattern: RegExp;
  /** The route template, for metrics and messages. */
  readonly name: string;
  /** null: anonymous. */
  readonly roles: readonly Role[] | null;
  readonly handler: (ctx: Context, params: string[]) => Promise<void> | void;
}

/** Requests in flight, and the switch that refuses new ones during a drain. */
export class RequestGate {
  #inFlight = 0;
  #draining = false;
  #idle: (() => void)[] = [];

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  enter(): boolean {
    if (this.#draining) return false;
    this.#inFlight++;
    return true;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const f of this.#idle.splice(0)) f();
  }

  /** Refuses new requests from now on; resolves when none is in flight (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

export function nodeApp(opts: { routes: readonly RouteSpec[]; auth: AuthOptions; metrics: NodeMetrics; log: Logger; gate: RequestGate }): Koa {
  const app = new Koa();
  const { routes, auth, metrics, log, gate } = opts;

  app.use(async (ctx, next) => {
    if (!gate.enter()) {
      ctx.set('Connection', 'close');
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { error: { code: 'draining', message: 'the node is shutting down; ask another replica or retry' } };
      return;
    }
    const started = process.hrtime.bigint();
    let left = false;
    const done = (): void => {
      if (left) return;
      left = true;
      gate.leave();
      const route = (ctx.state['route'] as string | undefined) ?? 'unmatched';
      metrics.requests.observe({ route, method: ctx.method, status: ctx.status }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    ctx.res.once('close', done);
    try {
      await next();
    } finally {
      // A response Koa does not write (ctx.respond = false) ends through 'close' alone.
      if (ctx.respond !== false && ctx.res.writableEnded) done();
    }
  });

  app.use(nodeErrors((err, ctx) => log.error({ err, method: ctx.method, path: ctx.path }, 'node request failed')));

  app.use(async (ctx) => {
    let methodMismatch: RouteSpec | null = null;
    for (const route of routes) {
      const m = route.pattern.exec(ctx.path);
      if (m === null) continue;
      if (!route.method.includes(ctx.method)) {
        methodMismatch = route;
        continue;
      }
      ctx.state['route'] = route.name;
      if (route.roles !== null) {
        const claims = authenticate(ctx, auth);
        if (!route.roles.includes(claims.role)) {
          throw new ApiError(403, 'forbidden', `role "${claims.role}" may not call ${ctx.method} ${route.name} (allowed: ${route.roles.join(', ')})`);
        }
        ctx.state['claims'] = claims;
      }
      await route.handler(ctx, m.slice(1));
      return;
    }
    if (methodMismatch !== null) {
      ctx.set('Allow', methodMismatch.method.join(', '));
      throw new ApiError(405, 'method-not-allowed', `${ctx.method} is not allowed on ${methodMismatch.name}`);
    }
    throw new ApiError(404, 'not-found', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}
