// Credentials for operators (admin only): POST /v1/tokens mints a token,
// POST /v1/tokens/revoke revokes one through meta and the LiveStore.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { DEFAULT_LEEWAY_SECONDS, mintToken, newTokenId, type Role } from '../../crypto/tokens.js';
import { claimsOf, guard } from '../auth.js';
import { badRequest, readJsonObject } from '../body.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { parseTtl } from '../ttl.js';

/** Roles an operator may mint here; gateway and meta credentials are made by those processes. */
export const ISSUABLE_ROLES = ['node', 'client', 'admin', 'join', 'sentinel'] as const satisfies readonly Role[];
export type IssuableRole = (typeof ISSUABLE_ROLES)[number];

export const MAX_TOKEN_TTL_S = 365 * 86_400;
/** Join tokens admit a node once; a long-lived one is a standing invitation. */
export const MAX_JOIN_TOKEN_TTL_S = 7 * 86_400;
/** A revocation without a known expiry outlives any token this cluster issues. */
export const DEFAULT_REVOCATION_MS = (MAX_TOKEN_TTL_S + 86_400 + DEFAULT_LEEWAY_SECONDS) * 1000;

const TOKEN_ID = /^[0-9a-f]{32}$/;

export const registerTokenRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.post('/v1/tokens', guard(g, ['admin']), async (ctx: Context) => {
    const f = (await readJsonObject(ctx, g.limits.jsonBodyBytes)).only(['role', 'ttl', 'sub']);
    const role = f.oneOf('role', ISSUABLE_ROLES);
    let ttl: number;
    try {
      ttl = parseTtl(f.raw['ttl'], role === 'join' ? MAX_JOIN_TOKEN_TTL_S : MAX_TOKEN_TTL_S);
    } catch (err) {
      throw badRequest(`body: ${(err as Error).message}`);
    }
    const sub = f.has('sub') ? f.text('sub', 256) : role;
    const id = newTokenId();
    const iat = Math.floor(g.now() / 1000);
    const token = mintToken(g.secrets.authority, { id, role, sub, iat, exp: iat + ttl });
    g.log.info({ id, role, sub, ttl, by: claimsOf(ctx).sub }, 'token issued');
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, id, role, sub, expiresAt: (iat + ttl) * 1000 };
  });

  router.post('/v1/tokens/revoke', guard(g, ['admin']), async (ctx: Context) => {
    const f = (await readJsonObject(ctx, g.limits.jsonBodyBytes)).only(['id', 'expiresAt']);
    const id = f.string('id', TOKEN_ID, 'must be a credential id: 32 lowercase hex digits');
    const now = g.now();
    const expiresAt = f.has('expiresAt') ? f.integer('expiresAt', 0, now + DEFAULT_REVOCATION_MS) : now + DEFAULT_REVOCATION_MS;
    const result = await g.meta.command({ type: 'revoke', credentialId: id, expiresAt });
    if (!result.ok) throw new ApiError(result.code === 'not-initialized' ? 503 : 400, result.code, `meta refused the revocation: ${result.message}`);
    // Meta has it: from here on every gateway refuses the id once it reads meta again;
    // through the LiveStore, the ones sharing it refuse it at once.
    await g.revocations.add(id, expiresAt);
    g.log.info({ id, until: expiresAt, by: claimsOf(ctx).sub }, 'credential revoked');
    ctx.body = { id, revokedUntil: expiresAt, effective: expiresAt > now };
  });
};
