// The compact signed string under tokens and certificates:
//   <prefix>.<base64url(payload JSON)>.<base64url(Ed25519 signature)>
// The signature covers the ASCII bytes "<prefix>.<payload part>", so the prefix separates
// the kinds of signed strings: a certificate can never pass as a token, nor the reverse.
import { CredentialError } from './errors.js';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import type { Secret } from './secret.js';
import { signDetached, verifyDetached, SIGNATURE_BYTES } from './sodium.js';

/** Longer strings are refused before any parsing (bounded work for hostile input). */
export const MAX_SIGNED_STRING_LENGTH = 4096;
const PREFIX = /^[a-z][a-z0-9-]*[0-9]$/;

export function encodeSigned(prefix: string, payload: object, secretKey: Secret): string {
  if (!PREFIX.test(prefix)) throw new Error(`invalid signed-string prefix ${JSON.stringify(prefix)}`);
  const body = `${prefix}.${encodeBase64url(Buffer.from(JSON.stringify(payload), 'utf8'))}`;
  const signature = signDetached(Buffer.from(body, 'ascii'), secretKey.expose());
  const text = `${body}.${encodeBase64url(signature)}`;
  if (text.length > MAX_SIGNED_STRING_LENGTH) throw new Error(`signed ${prefix} string would exceed ${MAX_SIGNED_STRING_LENGTH} characters`);
  return text;
}

/**
 * The verified payload object. Throws CredentialError 'malformed' for anything that is not
 * a well-formed string of this kind, 'bad-signature' when `publicKey` did not sign it.
 * The signature is checked before the payload JSON is parsed.
 */
export function decodeSigned(prefix: string, text: unknown, publicKey: Uint8Array, what: string): Record<string, unknown> {
  // The prefix has no '.', so a string verified under another prefix cannot match this one.
  if (typeof text === 'string' && text.startsWith(`${prefix}.`)) {
    const known = verified.get(publicKey)?.get(text);
    if (known !== undefined) return known;
  }
  const payload = verifyAndParse(prefix, text, publicKey, what);
  remember(publicKey, text as string, payload);
  return payload;
}

/**
 * Strings whose signature has been checked, per public key: every request carries the same
 * few tokens, and an Ed25519 check costs more than the rest of authentication together.
 * Only the signature and the parse are remembered; callers check times and revocation on
 * every use. The payloads are frozen, so a caller cannot change what the next one sees.
 */
export const VERIFIED_CACHE_ENTRIES = 4096;
const verified = new WeakMap<Uint8Array, Map<string, Readonly<Record<string, unknown>>>>();

function remember(publicKey: Uint8Array, text: string, payload: Record<string, unknown>): void {
  let table = verified.get(publicKey);
  if (table === undefined) verified.set(publicKey, (table = new Map()));
  // Oldest first out: a Map iterates in insertion order.
  if (table.size >= VERIFIED_CACHE_ENTRIES) table.delete(table.keys().next().value as string);
  table.set(text, Object.freeze(payload));
}

function verifyAndParse(prefix: string, text: unknown, publicKey: Uint8Array, what: string): Record<string, unknown> {
  const malformed = (why: string): CredentialError => new CredentialError('malformed', `${what} is malformed: ${why}`);
  if (typeof text !== 'string') throw malformed('not a string');
  if (text.length > MAX_SIGNED_STRING_LENGTH) throw malformed('too long');
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) throw malformed(`expected ${prefix}.<payload>.<signature>`);
  const [, payloadPart = '', signaturePart = ''] = parts;
  const payloadBytes = decodeBase64url(payloadPart);
  const signature = decodeBase64url(signaturePart);
  if (payloadBytes === null || payloadBytes.length === 0) throw malformed('payload is not base64url');
  if (signature === null || signature.length !== SIGNATURE_BYTES) throw malformed('signature is not 64 bytes of base64url');
  const body = Buffer.from(`${prefix}.${payloadPart}`, 'ascii');
  if (!verifyDetached(signature, body, publicKey)) {
    throw new CredentialError('bad-signature', `${what} signature is not valid for this cluster`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    throw malformed('payload is not UTF-8 JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw malformed('payload is not an object');
  return payload as Record<string, unknown>;
}
