// Signed credentials, both minted by the cluster authority:
// - tokens   `opera1.<payload>.<sig>`     bearer credentials (admin, client, gateway, node, sentinel, meta, join)
// - certificates `operacert1.<payload>.<sig>` bind a member's Ed25519 public key to its
//   identity, for request signing; a certificate is public and is never a bearer credential.
// Revocation and single use of join tokens are the callers' business (meta records ids);
// verification offers an `isRevoked` hook so no caller forgets to ask.
import { CredentialError } from './errors.js';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import type { Secret } from './secret.js';
import { decodeSigned, encodeSigned } from './signed-string.js';
import { randomBytes, SIGN_PUBLIC_KEY_BYTES } from './sodium.js';

export const ROLES = ['admin', 'client', 'gateway', 'node', 'sentinel', 'meta', 'join'] as const;
export type Role = (typeof ROLES)[number];
/** Roles whose processes hold their own key pair and sign requests. */
export const CERTIFIED_ROLES = ['gateway', 'node', 'sentinel', 'meta'] as const;
export type CertifiedRole = (typeof CERTIFIED_ROLES)[number];

export const TOKEN_PREFIX = 'opera1';
export const CERTIFICATE_PREFIX = 'operacert1';
/** Tolerated clock difference between the minting and the verifying host. */
export const DEFAULT_LEEWAY_SECONDS = 30;
export const SUBJECT_MAX_LENGTH = 256;

export interface TokenClaims {
  /** Random 128-bit id, 32 lowercase hex digits: what revocation lists and join-token records name. */
  readonly id: string;
  readonly role: Role;
  /** Who it was issued to: a node id, a client name, ... */
  readonly sub: string;
  /** Issued at / expires at, Unix seconds; valid while iat <= now < exp (plus leeway). */
  readonly iat: number;
  readonly exp: number;
  /**
   * Set on a session: the id of the long-lived token it was exchanged for. A session is
   * refused wherever its parent is revoked, so revoking a token ends its sessions.
   */
  readonly parent?: string;
}

export interface CertificateClaims extends Omit<TokenClaims, 'role' | 'parent'> {
  readonly role: CertifiedRole;
  /** The member's Ed25519 public key (32 bytes). */
  readonly publicKey: Buffer;
}

export interface TokenRequest {
  readonly role: Role;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  /** Defaults to a fresh random id; pass one to know it before minting. */
  readonly id?: string;
  /** Mints a session of this parent token id (see TokenClaims.parent). */
  readonly parent?: string;
}

export interface CertificateRequest extends Omit<TokenRequest, 'role' | 'parent'> {
  readonly role: CertifiedRole;
  readonly publicKey: Uint8Array;
}

export interface VerifyOptions {
  /** Called with the credential id after the signature and times check out. */
  readonly isRevoked?: (id: string) => boolean;
  readonly leewaySeconds?: number;
}

/** Anything holding the authority's secret key (e.g. `ClusterSecrets.authority`). */
export interface Signer {
  readonly secretKey: Secret;
}

const ID = /^[0-9a-f]{32}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function newTokenId(): string {
  return randomBytes(16).toString('hex');
}

export function mintToken(authority: Signer, request: TokenRequest): string {
  const claims = {
    id: request.id ?? newTokenId(), role: request.role, sub: request.sub, iat: request.iat, exp: request.exp,
    ...(request.parent !== undefined ? { par: request.parent } : {}),
  };
  const problem = claimsProblem(claims, ROLES, false);
  if (problem !== null) throw new Error(`cannot mint token: ${problem}`);
  return encodeSigned(TOKEN_PREFIX, claims, authority.secretKey);
}

export function issueCertificate(authority: Signer, request: CertificateRequest): string {
  if (request.publicKey.byteLength !== SIGN_PUBLIC_KEY_BYTES) throw new Error('cannot issue certificate: public key must be 32 bytes');
  const claims = {
    id: request.id ?? newTokenId(), role: request.role, sub: request.sub, iat: request.iat, exp: request.exp,
    pk: encodeBase64url(request.publicKey),
  };
  const problem = claimsProblem(claims, CERTIFIED_ROLES, true);
  if (problem !== null) throw new Error(`cannot issue certificate: ${problem}`);
  return encodeSigned(CERTIFICATE_PREFIX, claims, authority.secretKey);
}

/** The token's claims, or a CredentialError saying why it is refused. */
export function verifyToken(
  authorityPublicKey: Uint8Array, token: unknown, nowSeconds: number, options: VerifyOptions = {},
): TokenClaims {
  const payload = decodeSigned(TOKEN_PREFIX, token, authorityPublicKey, 'token');
  const problem = claimsProblem(payload, ROLES, false);
  if (problem !== null) throw new CredentialError('malformed', `token is malformed: ${problem}`);
  const claims = payload as unknown as TokenClaims & { par?: string };
  checkTimesAndRevocation(claims, nowSeconds, options, 'token');
  if (claims.par !== undefined && options.isRevoked?.(claims.par) === true) {
    throw new CredentialError('revoked', `session ${claims.id} ended: its token ${claims.par} has been revoked`);
  }
  const base = { id: claims.id, role: claims.role, sub: claims.sub, iat: claims.iat, exp: claims.exp };
  return claims.par !== undefined ? { ...base, parent: claims.par } : base;
}

export function verifyCertificate(
  authorityPublicKey: Uint8Array, certificate: unknown, nowSeconds: number, options: VerifyOptions = {},
): CertificateClaims {
  const payload = decodeSigned(CERTIFICATE_PREFIX, certificate, authorityPublicKey, 'certificate');
  const problem = claimsProblem(payload, CERTIFIED_ROLES, true);
  if (problem !== null) throw new CredentialError('malformed', `certificate is malformed: ${problem}`);
  const claims = payload as unknown as TokenClaims & { pk: string; role: CertifiedRole };
  checkTimesAndRevocation(claims, nowSeconds, options, 'certificate');
  const publicKey = decodeBase64url(claims.pk);
  if (publicKey === null) throw new Error('unreachable: pk was validated');
  return { id: claims.id, role: claims.role, sub: claims.sub, iat: claims.iat, exp: claims.exp, publicKey };
}

/** Throws CredentialError 'wrong-role' (HTTP 403) unless the credential has one of `roles`. */
export function requireRole<R extends string>(claims: { readonly role: string }, roles: readonly R[]): asserts claims is { role: R } {
  if (!(roles as readonly string[]).includes(claims.role)) {
    throw new CredentialError('wrong-role', `role ${claims.role} may not do this (needs ${roles.join(' or ')})`);
  }
}

function checkTimesAndRevocation(claims: TokenClaims, now: number, options: VerifyOptions, what: string): void {
  if (!Number.isFinite(now)) throw new Error('nowSeconds must be a finite number');
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isFinite(leeway) || leeway < 0) throw new Error('leewaySeconds must be a non-negative number');
  if (claims.iat > now + leeway) throw new CredentialError('not-yet-valid', `${what} is not valid yet (issued in the future)`);
  if (now >= claims.exp + leeway) throw new CredentialError('expired', `${what} has expired`);
  if (options.isRevoked?.(claims.id) === true) throw new CredentialError('revoked', `${what} ${claims.id} has been revoked`);
}

/** Null if `c` is a valid claims object with exactly the expected fields, else what is wrong. */
function claimsProblem(c: Record<string, unknown>, roles: readonly string[], withKey: boolean): string | null {
  // Only tokens may name a parent (sessions); certificates never do.
  const expected = withKey ? ['id', 'role', 'sub', 'iat', 'exp', 'pk'] : ['id', 'role', 'sub', 'iat', 'exp', ...(Object.hasOwn(c, 'par') ? ['par'] : [])];
  const keys = Object.keys(c);
  if (keys.length !== expected.length || !expected.every((k) => Object.hasOwn(c, k))) {
    return `fields must be exactly ${expected.join(', ')}`;
  }
  if (typeof c.id !== 'string' || !ID.test(c.id)) return 'id must be 32 lowercase hex digits';
  if (Object.hasOwn(c, 'par') && (typeof c.par !== 'string' || !ID.test(c.par) || c.par === c.id)) {
    return 'par must be the 32-hex-digit id of another token';
  }
  if (typeof c.role !== 'string' || !roles.includes(c.role)) return `role must be one of ${roles.join(', ')}`;
  if (typeof c.sub !== 'string' || c.sub.length === 0 || c.sub.length > SUBJECT_MAX_LENGTH || CONTROL.test(c.sub)) {
    return `sub must be 1..${SUBJECT_MAX_LENGTH} characters without control characters`;
  }
  if (!isSeconds(c.iat) || !isSeconds(c.exp)) return 'iat and exp must be non-negative integer seconds';
  if (c.exp <= c.iat) return 'exp must be after iat';
  if (withKey) {
    const pk = typeof c.pk === 'string' ? decodeBase64url(c.pk) : null;
    if (pk === null || pk.length !== SIGN_PUBLIC_KEY_BYTES) return 'pk must be a 32-byte Ed25519 public key in base64url';
  }
  return null;
}

function isSeconds(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
