// The middleware around every gateway route: a request id (X-Request-Id, taken from the
// caller when it is sane, else made here), latency and status metrics per route
// template, one access log line per request, and the translation of infrastructure
// failures (LiveStore, meta, the map not loaded yet) into retryable JSON errors.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ApiError } from '../common/http-errors.js';
import { KeyError } from '../common/keys.js';
import { MetaClientError } from '../meta/client.js';
import type { GatewayContext } from './context.js';
import { LiveStoreClosedError, LiveStoreUnavailableError } from './live-store/index.js';
import { MapNotLoadedError } from './map-cache.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The route template a request matched (bounded set), for metrics labels. */
export function routeLabel(ctx: Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : 'unmatched';
}

export function requestIdOf(ctx: Context): string {
  return String(ctx.state['requestId'] ?? '');
}

/** Outermost: request id, metrics, access log. Sees the final status set by jsonErrors. */
export function observeRequests(g: GatewayContext) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    const offered = ctx.get('x-request-id');
    const id = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state['requestId'] = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(ctx);
      g.metrics.observe(route, ctx.method, ctx.status, seconds, g.now());
      // Never the headers or the body: they carry credentials and data keys.
      const claims = ctx.state['claims'] as { role?: string; sub?: string } | undefined;
      g.log.debug(
        { requestId: id, method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1000), role: claims?.role, sub: claims?.sub },
        'request',
      );
    }
  };
}

/** Inside jsonErrors: turns dependency failures into JSON errors with the right status. */
export function translateFailures(g: GatewayContext) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      throw translate(g, err);
    }
    if ((ctx.status === 405 || ctx.status === 501) && (ctx.body === undefined || ctx.body === null || ctx.body === '')) {
      const allowed = ctx.response.get('Allow');
      const code = ctx.status === 405 ? 'method-not-allowed' : 'not-implemented';
      const message = ctx.status === 405 ? `${ctx.method} is not allowed on ${ctx.path}${allowed ? ` (allowed: ${allowed})` : ''}` : `${ctx.method} is not implemented`;
      ctx.body = { error: { code, message } };
    }
  };
}

function translate(g: GatewayContext, err: unknown): unknown {
  if (err instanceof LiveStoreUnavailableError || err instanceof LiveStoreClosedError) {
    return new ApiError(503, 'live-store-unavailable', 'the shared live state (LiveStore) cannot be reached; retry shortly', { 'Retry-After': '1' });
  }
  if (err instanceof MapNotLoadedError) return new ApiError(503, 'map-not-loaded', err.message, { 'Retry-After': '1' });
  if (err instanceof KeyError) return new ApiError(400, 'invalid-key', `${err.message} (rule: ${err.rule})`);
  if (err instanceof MetaClientError) {
    if (err.status === 503 || err.status >= 500) {
      g.metrics.metaErrors.inc({ op: 'request' });
      return new ApiError(503, 'meta-unavailable', `meta cannot be reached: ${err.message}`, { 'Retry-After': '1' });
    }
    // A 4xx from meta means this gateway sent something meta refused: a bug or a revoked gateway credential.
    g.log.error({ status: err.status, code: err.code, message: err.message }, 'meta refused a gateway request');
    return new ApiError(502, 'meta-refused', `meta refused the gateway's request (${err.code})`);
  }
  return err;
}
