// Bearer-token authentication for every HTTP listener: 401 without a valid credential,
// 403 for a role the route does not allow. Only /healthz is anonymous.
import type { Context, Next } from 'koa';
import { CredentialError } from '../crypto/errors.js';
import { verifyToken, type Role, type TokenClaims } from '../crypto/tokens.js';
import { ApiError } from './http-errors.js';

export interface AuthOptions {
  readonly authorityPublicKey: Uint8Array;
  readonly isRevoked?: (id: string) => boolean;
  readonly now?: () => number;
}

export function bearerToken(ctx: Context): string | null {
  const header = ctx.get('authorization');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Verifies the request's token and returns its claims; throws ApiError 401. */
export function authenticate(ctx: Context, opts: AuthOptions): TokenClaims {
  const token = bearerToken(ctx);
  if (token === null) {
    throw new ApiError(401, 'unauthenticated', 'a credential is required: send "Authorization: Bearer <token>"', {
      'WWW-Authenticate': 'Bearer',
    });
  }
  try {
    const nowSeconds = Math.floor((opts.now ?? Date.now)() / 1000);
    return verifyToken(opts.authorityPublicKey, token, nowSeconds, opts.isRevoked ? { isRevoked: opts.isRevoked } : {});
  } catch (err) {
    if (err instanceof CredentialError) throw new ApiError(401, `credential-${err.code}`, err.message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    throw err;
  }
}

/** Koa middleware for a route: authenticated, and one of `roles`. */
export function allow(opts: AuthOptions, roles: readonly Role[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const claims = authenticate(ctx, opts);
    if (!roles.includes(claims.role)) {
      throw new ApiError(403, 'forbidden', `role "${claims.role}" may not call ${ctx.method} ${ctx.path} (allowed: ${roles.join(', ')})`);
    }
    ctx.state['claims'] = claims;
    await next();
  };
}
