// Request signing between members (node to node, sentinel to meta, ...). The sender signs
// method, path, audience (who the request is for), timestamp, a random nonce, the body's
// SHA-256 and the digest of its own certificate with its Ed25519 key; the receiver checks
// the certificate against the authority, the clock skew, the signature, and last of all the
// nonce, so that unauthenticated junk cannot fill the replay cache.
import { createHash } from 'node:crypto';
import { CredentialError } from './errors.js';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import type { Secret } from './secret.js';
import { randomBytes, signDetached, verifyDetached } from './sodium.js';
import { verifyCertificate, type CertificateClaims, type CertifiedRole, requireRole, type VerifyOptions } from './tokens.js';

export const REQUEST_SIGNATURE_SCHEME = 'opera-sig1';
export const DEFAULT_MAX_SKEW_SECONDS = 30;
const DOMAIN = 'opera-req1';
const METHOD = /^[A-Z]{1,16}$/;
const NONCE = /^[0-9a-f]{32}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const HEADER = /^opera-sig1 cert=([A-Za-z0-9_.-]{1,4096}),ts=(0|[1-9][0-9]{0,14}),nonce=([0-9a-f]{32}),sig=([A-Za-z0-9_-]{86})$/;

export interface RequestToSign {
  /** Upper case, as node:http reports it. */
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly path: string;
  /** The receiver's identity (e.g. its node id), so a request cannot be replayed to another member. */
  readonly audience: string;
  /** SHA-256 of the body (see EMPTY_BODY_DIGEST for none). */
  readonly bodyDigest: Uint8Array;
}

export interface RequestSignature {
  readonly certificate: string;
  readonly timestamp: number;
  readonly nonce: string;
  /** base64url Ed25519 signature. */
  readonly signature: string;
}

export interface RequestSigner {
  readonly secretKey: Secret;
  /** This member's certificate, issued by the authority for the public half of `secretKey`. */
  readonly certificate: string;
}

export interface VerifyRequestOptions extends VerifyOptions {
  readonly nowSeconds: number;
  readonly maxSkewSeconds?: number;
  /**
   * Records `nonce` and says whether it had been seen before (atomically, e.g. Redis SET NX).
   * It must be remembered at least until `expiresAtSeconds`; after that the skew check refuses it.
   */
  readonly seen: (nonce: string, expiresAtSeconds: number) => boolean | Promise<boolean>;
  /** If given, the certificate's role must be one of these. */
  readonly roles?: readonly CertifiedRole[];
}

export const EMPTY_BODY_DIGEST: Buffer = createHash('sha256').digest();

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function signRequest(
  signer: RequestSigner, request: RequestToSign, nowSeconds: number, nonce: string = newNonce(),
): RequestSignature {
  const problem = requestProblem(request);
  if (problem !== null) throw new Error(`cannot sign request: ${problem}`);
  if (!Number.isSafeInteger(nowSeconds) || nowSeconds < 0) throw new Error('cannot sign request: timestamp must be integer seconds');
  if (!NONCE.test(nonce)) throw new Error('cannot sign request: nonce must be 32 lowercase hex digits');
  const message = signedMessage(request, nowSeconds, nonce, signer.certificate);
  const signature = encodeBase64url(signDetached(message, signer.secretKey.expose()));
  return { certificate: signer.certificate, timestamp: nowSeconds, nonce, signature };
}

/** The claims of the signer's certificate, or a CredentialError saying why the request is refused. */
export async function verifyRequest(
  authorityPublicKey: Uint8Array, request: RequestToSign, signature: RequestSignature, options: VerifyRequestOptions,
): Promise<CertificateClaims> {
  const problem = requestProblem(request);
  if (problem !== null) throw new CredentialError('malformed', `signed request is malformed: ${problem}`);
  const { timestamp, nonce } = signature;
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || typeof nonce !== 'string' || !NONCE.test(nonce)) {
    throw new CredentialError('malformed', 'signed request is malformed: bad timestamp or nonce');
  }
  const claims = verifyCertificate(authorityPublicKey, signature.certificate, options.nowSeconds, options);
  if (options.roles !== undefined) requireRole(claims, options.roles);
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (!Number.isFinite(maxSkew) || maxSkew < 0) throw new Error('maxSkewSeconds must be a non-negative number');
  if (Math.abs(options.nowSeconds - timestamp) > maxSkew) {
    throw new CredentialError('clock-skew', `request timestamp is more than ${maxSkew}s away from this host's clock`);
  }
  const sig = typeof signature.signature === 'string' ? decodeBase64url(signature.signature) : null;
  const message = signedMessage(request, timestamp, nonce, signature.certificate);
  if (sig === null || !verifyDetached(sig, message, claims.publicKey)) {
    throw new CredentialError('bad-signature', `request signature of ${claims.role} ${claims.sub} is not valid`);
  }
  if (await options.seen(nonce, timestamp + maxSkew + 1)) {
    throw new CredentialError('replay', `request nonce from ${claims.role} ${claims.sub} was already used`);
  }
  return claims;
}

/** One header value: `opera-sig1 cert=<certificate>,ts=<seconds>,nonce=<hex>,sig=<base64url>`. */
export function formatSignatureHeader(signature: RequestSignature): string {
  return `${REQUEST_SIGNATURE_SCHEME} cert=${signature.certificate},ts=${signature.timestamp},` +
    `nonce=${signature.nonce},sig=${signature.signature}`;
}

export function parseSignatureHeader(value: unknown): RequestSignature {
  const match = typeof value === 'string' ? HEADER.exec(value) : null;
  if (match === null) throw new CredentialError('malformed', `request signature header is not in ${REQUEST_SIGNATURE_SCHEME} format`);
  const [, certificate = '', ts = '', nonce = '', signature = ''] = match;
  return { certificate, timestamp: Number(ts), nonce, signature };
}

function signedMessage(request: RequestToSign, timestamp: number, nonce: string, certificate: string): Buffer {
  const certDigest = createHash('sha256').update(certificate, 'utf8').digest('hex');
  const lines = [DOMAIN, request.method, request.path, request.audience, String(timestamp), nonce,
    Buffer.from(request.bodyDigest).toString('hex'), certDigest];
  return Buffer.from(lines.join('\n'), 'utf8');
}

function requestProblem(r: RequestToSign): string | null {
  if (typeof r.method !== 'string' || !METHOD.test(r.method)) return 'method must be an upper-case HTTP method';
  if (typeof r.path !== 'string' || !r.path.startsWith('/') || r.path.length > 8192 || CONTROL.test(r.path)) {
    return 'path must start with / and have no control characters';
  }
  if (typeof r.audience !== 'string' || r.audience.length === 0 || r.audience.length > 256 || CONTROL.test(r.audience)) {
    return 'audience must be 1..256 characters without control characters';
  }
  if (!(r.bodyDigest instanceof Uint8Array) || r.bodyDigest.byteLength !== 32) return 'body digest must be 32 bytes (SHA-256)';
  return null;
}
