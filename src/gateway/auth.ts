// Authentication for the gateway's routes: a bearer token (signature, times, then
// revocation through meta's list and the LiveStore; for a session, its parent's
// revocation and its record in the LiveStore), the route's roles (401 without a
// valid credential, 403 for the wrong role), then the credential's rate limit (429).
// Signed requests (`Authorization: opera-sig1 ...`, for /v1/renew) are checked the same
// way, with their nonce claimed in the LiveStore so that a request cannot be replayed.
import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import { authenticate } from '../common/auth.js';
import { ApiError } from '../common/http-errors.js';
import { CredentialError } from '../crypto/errors.js';
import { parseSignatureHeader, verifyRequest } from '../crypto/request-signing.js';
import type { CertificateClaims, CertifiedRole, Role, TokenClaims } from '../crypto/tokens.js';
import type { GatewayContext } from './context.js';
import { enforceRate } from './rate-limit.js';

export const SIGNATURE_SCHEME = 'opera-sig1';

/** The claims of the request's credential, set by `guard`. */
export function claimsOf(ctx: Context): TokenClaims {
  const claims = ctx.state['claims'] as TokenClaims | undefined;
  if (claims === undefined) throw new Error('claimsOf: the route has no guard');
  return claims;
}

/** The audience a signed request to the gateways of a cluster names. */
export function gatewayAudience(clusterId: string): string {
  return `gateway:${clusterId}`;
}

function refused(err: CredentialError): ApiError {
  return new ApiError(401, `credential-${err.code}`, err.message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

function forbidden(ctx: Context, role: string, roles: readonly string[]): ApiError {
  return new ApiError(403, 'forbidden', `role "${role}" may not call ${ctx.method} ${ctx.path} (allowed: ${roles.join(', ')})`);
}

/** Koa middleware: a valid, unrevoked bearer token of one of `roles`, within its rate. */
export function guard(g: GatewayContext, roles: readonly Role[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const claims = authenticate(ctx, { authorityPublicKey: g.secrets.authority.publicKey, now: g.now });
    if (await g.revocations.isRevoked(claims.id)) {
      throw refused(new CredentialError('revoked', `token ${claims.id} has been revoked`));
    }
    if (claims.parent !== undefined) {
      if (await g.revocations.isRevoked(claims.parent)) {
        throw refused(new CredentialError('revoked', `session ${claims.id} ended: its token ${claims.parent} has been revoked`));
      }
      await checkSession(g, claims);
    }
    if (!roles.includes(claims.role)) throw forbidden(ctx, claims.role, roles);
    // A session draws from its parent's bucket: opening sessions does not raise the limit.
    await enforceRate(g, ctx, `cred:${claims.parent ?? claims.id}`);
    ctx.state['claims'] = claims;
    await next();
  };
}

async function checkSession(g: GatewayContext, claims: TokenClaims): Promise<void> {
  try {
    await g.sessions.check(claims);
  } catch (err) {
    if (err instanceof CredentialError) throw refused(err);
    g.metrics.liveStoreErrors.inc({ op: 'getSession' });
    throw err;
  }
}

/**
 * Verifies a request signed with a member certificate of one of `roles` over `body` (the
 * raw bytes). Returns the certificate's claims; throws 401/403 like `guard`.
 */
export async function verifySigned(
  g: GatewayContext, ctx: Context, body: Buffer, roles: readonly CertifiedRole[], clusterId: string,
): Promise<CertificateClaims> {
  const header = ctx.get('authorization');
  if (!header.startsWith(`${SIGNATURE_SCHEME} `)) {
    throw new ApiError(401, 'unauthenticated', `this route needs a signed request: "Authorization: ${SIGNATURE_SCHEME} cert=...,ts=...,nonce=...,sig=..."`, {
      'WWW-Authenticate': SIGNATURE_SCHEME,
    });
  }
  let claims: CertificateClaims;
  try {
    const signature = parseSignatureHeader(header);
    const nowSeconds = Math.floor(g.now() / 1000);
    claims = await verifyRequest(
      g.secrets.authority.publicKey,
      { method: ctx.method, path: ctx.originalUrl, audience: gatewayAudience(clusterId), bodyDigest: createHash('sha256').update(body).digest() },
      signature,
      {
        nowSeconds,
        isRevoked: (id) => g.revocations.knownRevoked(id),
        // Claimed only once everything else checked out; remembered past the skew window.
        seen: async (nonce, expiresAtSeconds) => {
          const ttlMs = Math.max(1000, expiresAtSeconds * 1000 - g.now() + 1000);
          try {
            return !(await g.live.claimNonce(`sig:${nonce}`, ttlMs));
          } catch (err) {
            g.metrics.liveStoreErrors.inc({ op: 'claimNonce' });
            throw err;
          }
        },
      },
    );
  } catch (err) {
    if (err instanceof CredentialError) {
      if (err.code === 'wrong-role') throw new ApiError(403, 'forbidden', err.message);
      throw refused(err);
    }
    throw err;
  }
  if (await g.revocations.isRevoked(claims.id)) throw refused(new CredentialError('revoked', `certificate ${claims.id} has been revoked`));
  if (!(roles as readonly string[]).includes(claims.role)) throw forbidden(ctx, claims.role, roles);
  await enforceRate(g, ctx, `cred:${claims.id}`);
  return claims;
}
