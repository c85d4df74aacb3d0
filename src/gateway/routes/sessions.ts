// Token exchange: POST /v1/sessions trades a long-lived client or admin token for a
// short-lived session; DELETE /v1/sessions/current (with the session) logs it out.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { CredentialError } from '../../crypto/errors.js';
import { DEFAULT_LEEWAY_SECONDS } from '../../crypto/tokens.js';
import { claimsOf, guard } from '../auth.js';
import { badRequest, Fields, readRawBody } from '../body.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { SESSION_ROLES } from '../sessions.js';
import { formatDuration, parseTtl } from '../ttl.js';

export const registerSessionRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.post('/v1/sessions', guard(g, SESSION_ROLES), async (ctx: Context) => {
    const parent = claimsOf(ctx);
    if (parent.parent !== undefined) {
      throw new ApiError(403, 'forbidden', 'a session cannot be exchanged for another session: present the long-lived token');
    }
    const f = await optionalObject(ctx, g.limits.jsonBodyBytes);
    f.only(['ttl']);
    let ttl = g.limits.sessionTtlSeconds;
    if (f.has('ttl')) {
      try {
        ttl = parseTtl(f.raw['ttl'], g.limits.sessionTtlSeconds);
      } catch (err) {
        throw badRequest(`body: ${(err as Error).message} (this gateway's session limit is ${formatDuration(g.limits.sessionTtlSeconds)})`);
      }
    }
    let opened;
    try {
      opened = await g.sessions.open(parent, ttl);
    } catch (err) {
      if (err instanceof CredentialError) throw new ApiError(401, `credential-${err.code}`, err.message);
      g.metrics.liveStoreErrors.inc({ op: 'putSession' });
      throw err;
    }
    const c = opened.claims;
    g.log.info({ id: c.id, parent: c.parent, role: c.role, sub: c.sub, ttl: c.exp - c.iat }, 'session opened');
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { session: opened.token, id: c.id, parent: c.parent, role: c.role, sub: c.sub, expiresAt: c.exp * 1000 };
  });

  router.delete('/v1/sessions/current', guard(g, SESSION_ROLES), async (ctx: Context) => {
    const c = claimsOf(ctx);
    if (c.parent === undefined) {
      throw new ApiError(400, 'not-a-session', 'this credential is a long-lived token, not a session: revoke it with POST /v1/tokens/revoke');
    }
    // Revoked in meta first, so that storage nodes and meta, which never read the
    // LiveStore, refuse it too; if meta cannot take it, the session stays whole and the
    // caller may retry. Kept until the session could no longer pass anywhere.
    const until = (c.exp + DEFAULT_LEEWAY_SECONDS) * 1000;
    const result = await g.meta.command({ type: 'revoke', credentialId: c.id, expiresAt: until });
    if (!result.ok) throw new ApiError(result.code === 'not-initialized' ? 503 : 400, result.code, `meta refused the logout: ${result.message}`);
    await g.revocations.add(c.id, until);
    await g.sessions.end(c.id);
    g.log.info({ id: c.id, parent: c.parent, sub: c.sub }, 'session ended');
    ctx.body = { id: c.id, ended: true };
  });
};

/** The body as an object; an empty body is an empty object (every field is optional). */
async function optionalObject(ctx: Context, limit: number): Promise<Fields> {
  const raw = await readRawBody(ctx, limit);
  if (raw.length === 0) return new Fields({}, 'body');
  if (!/^application\/json\b/i.test(ctx.get('content-type'))) throw new ApiError(415, 'unsupported-media-type', 'the body must be application/json (or empty)');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'bad-json', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object (or empty)');
  return new Fields(body as Record<string, unknown>, 'body');
}
