// Wrapping of per-object data keys by a KEK with XChaCha20-Poly1305. The associated data
// binds the wrap to the format, the KEK (name and version) and the object key, so a wrapped
// key moved into another object's header, or relabelled with another KEK, does not unwrap.
import { EnvelopeError } from './errors.js';
import { encodeKekIdPrefix, type WrappedKey, WRAPPED_KEY_BYTES } from './envelope-format.js';
import type { Kek } from './secrets.js';
import { Secret } from './secret.js';
import { aeadDecrypt, aeadEncrypt, randomBytes, AEAD_NONCE_BYTES, STREAM_KEY_BYTES } from './sodium.js';

/** A per-object 32-byte content key; held in a Secret so it never prints. */
export type DataKey = Secret;

export const OBJECT_KEY_MAX_BYTES = 1024;
const LONE_SURROGATE = /\p{Cs}/u;

export function generateDataKey(): DataKey {
  const bytes = randomBytes(STREAM_KEY_BYTES);
  const key = new Secret(bytes, 'data key');
  bytes.fill(0);
  return key;
}

/** Throws a clear error unless `objectKey` is 1..1024 bytes of well-formed UTF-8. */
export function assertObjectKey(objectKey: string): void {
  if (typeof objectKey !== 'string' || objectKey.length === 0 || LONE_SURROGATE.test(objectKey)) {
    throw new Error('object key must be a non-empty, well-formed Unicode string');
  }
  if (Buffer.byteLength(objectKey, 'utf8') > OBJECT_KEY_MAX_BYTES) {
    throw new Error(`object key must be at most ${OBJECT_KEY_MAX_BYTES} bytes of UTF-8`);
  }
}

/** magic || version || KEK name/version (42 bytes) || u32 BE object key length || object key (UTF-8). */
export function wrapAssociatedData(kekName: string, kekVersion: number, objectKey: string): Buffer {
  assertObjectKey(objectKey);
  const key = Buffer.from(objectKey, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(key.length);
  return Buffer.concat([encodeKekIdPrefix(kekName, kekVersion), length, key]);
}

export function wrapDataKey(kek: Kek, objectKey: string, dataKey: DataKey): WrappedKey {
  if (dataKey.length !== STREAM_KEY_BYTES) throw new Error(`data key must be ${STREAM_KEY_BYTES} bytes`);
  const nonce = randomBytes(AEAD_NONCE_BYTES); // 192-bit random nonces: no collision risk at any volume
  const ad = wrapAssociatedData(kek.name, kek.version, objectKey);
  const wrappedKey = aeadEncrypt(dataKey.expose(), ad, nonce, kek.key.expose());
  return { kekName: kek.name, kekVersion: kek.version, nonce, wrappedKey };
}

/** The data key, or EnvelopeError 'unwrap-failed' if the wrap was altered or belongs elsewhere. */
export function unwrapDataKey(kek: Kek, objectKey: string, wrapped: WrappedKey): DataKey {
  if (kek.name !== wrapped.kekName || kek.version !== wrapped.kekVersion) {
    throw new Error(`unwrapDataKey: KEK ${kek.name}-${kek.version} given for a key wrapped by ${wrapped.kekName}-${wrapped.kekVersion}`);
  }
  if (wrapped.wrappedKey.length !== WRAPPED_KEY_BYTES) {
    throw new EnvelopeError('unwrap-failed', `wrapped data key must be ${WRAPPED_KEY_BYTES} bytes`);
  }
  const ad = wrapAssociatedData(kek.name, kek.version, objectKey);
  const plain = aeadDecrypt(wrapped.wrappedKey, ad, wrapped.nonce, kek.key.expose());
  if (plain === null) {
    throw new EnvelopeError('unwrap-failed', 'data key does not unwrap: the header was altered or belongs to another object');
  }
  const key = new Secret(plain, 'data key');
  plain.fill(0);
  return key;
}
