// Per-credential rate limits: one token bucket per credential id in the LiveStore, so
// every gateway sharing a Redis draws from the same bucket. Over the limit: 429 with
// Retry-After. A LiveStore that cannot answer fails the request (503), never lets it by.
import type { Context } from 'koa';
import { ApiError } from '../common/http-errors.js';
import type { GatewayContext } from './context.js';
import { routeLabel } from './request-context.js';

export async function enforceRate(g: GatewayContext, ctx: Context, bucket: string): Promise<void> {
  const { burst, perSecond } = g.limits.rate;
  let decision;
  try {
    decision = await g.live.consumeRate(bucket, { capacity: burst, refillPerSec: perSecond });
  } catch (err) {
    g.metrics.liveStoreErrors.inc({ op: 'consumeRate' });
    throw err;
  }
  ctx.set('RateLimit-Limit', String(burst));
  ctx.set('RateLimit-Remaining', String(decision.remaining));
  if (!decision.allowed) {
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    g.metrics.rateLimited.inc({ route: routeLabel(ctx) });
    throw new ApiError(429, 'rate-limited', `too many requests for this credential: at most ${perSecond}/s (bursts of ${burst}); retry in ${seconds} s`, {
      'Retry-After': String(seconds),
    });
  }
}
