// A small typed face over sodium-native 5. The published @types/sodium-native (2.x)
// describe an older API (Buffer tags, state objects), so we load the module untyped and
// declare only the calls we use, exactly as v5 implements them.
import { createRequire } from 'node:module';

interface SodiumV5 {
  readonly crypto_sign_PUBLICKEYBYTES: number;
  readonly crypto_sign_SECRETKEYBYTES: number;
  readonly crypto_sign_BYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_HEADERBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_KEYBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_ABYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
  readonly crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;
  readonly crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number;
  readonly crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
  readonly crypto_aead_xchacha20poly1305_ietf_ABYTES: number;
  randombytes_buf(buf: Uint8Array): void;
  sodium_memzero(buf: Uint8Array): void;
  sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
  crypto_sign_keypair(pk: Uint8Array, sk: Uint8Array): void;
  crypto_sign_ed25519_sk_to_pk(pk: Uint8Array, sk: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_secretstream_xchacha20poly1305_init_push(state: Uint8Array, header: Uint8Array, k: Uint8Array): void;
  crypto_secretstream_xchacha20poly1305_init_pull(state: Uint8Array, header: Uint8Array, k: Uint8Array): void;
  /** Throws on failure; returns the ciphertext length. */
  crypto_secretstream_xchacha20poly1305_push(
    state: Uint8Array, c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, tag: number): number;
  /** Throws 'pull failed' when the frame does not authenticate; writes the tag into `tag[0]`. */
  crypto_secretstream_xchacha20poly1305_pull(
    state: Uint8Array, m: Uint8Array, tag: Uint8Array, c: Uint8Array, ad: Uint8Array | null): number;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  /** Throws 'could not verify data' when the ciphertext or its associated data was altered. */
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

const sodium = createRequire(import.meta.url)('sodium-native') as SodiumV5;

export const SIGN_PUBLIC_KEY_BYTES: number = sodium.crypto_sign_PUBLICKEYBYTES;
export const SIGN_SECRET_KEY_BYTES: number = sodium.crypto_sign_SECRETKEYBYTES;
export const SIGNATURE_BYTES: number = sodium.crypto_sign_BYTES;
export const STREAM_STATE_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES;
export const STREAM_HEADER_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES;
export const STREAM_KEY_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES;
export const STREAM_ABYTES: number = sodium.crypto_secretstream_xchacha20poly1305_ABYTES;
export const TAG_MESSAGE: number = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
export const TAG_FINAL: number = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
export const AEAD_KEY_BYTES: number = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
export const AEAD_NONCE_BYTES: number = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
export const AEAD_ABYTES: number = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;

// The on-disk and on-wire formats hard-code these sizes; a different libsodium would be a bug.
if (SIGN_PUBLIC_KEY_BYTES !== 32 || SIGN_SECRET_KEY_BYTES !== 64 || SIGNATURE_BYTES !== 64 ||
    STREAM_HEADER_BYTES !== 24 || STREAM_KEY_BYTES !== 32 || STREAM_ABYTES !== 17 ||
    AEAD_KEY_BYTES !== 32 || AEAD_NONCE_BYTES !== 24 || AEAD_ABYTES !== 16) {
  throw new Error('sodium-native reports unexpected primitive sizes; refusing to run');
}

/** Fresh random bytes from libsodium's CSPRNG, never from the Buffer pool. */
export function randomBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  sodium.randombytes_buf(out);
  return out;
}

/** Overwrites `buf` with zeros (best effort: JS may have made copies). */
export function wipe(buf: Uint8Array): void {
  sodium.sodium_memzero(buf);
}

/** Constant-time comparison; false for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && sodium.sodium_memcmp(a, b);
}

export function signKeyPair(): { publicKey: Buffer; secretKey: Buffer } {
  const publicKey = Buffer.alloc(SIGN_PUBLIC_KEY_BYTES);
  const secretKey = Buffer.alloc(SIGN_SECRET_KEY_BYTES);
  sodium.crypto_sign_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
}

/** The public half of an Ed25519 secret key (libsodium stores it in the last 32 bytes). */
export function publicKeyOf(secretKey: Uint8Array): Buffer {
  if (secretKey.byteLength !== SIGN_SECRET_KEY_BYTES) throw new Error('Ed25519 secret key must be 64 bytes');
  const publicKey = Buffer.alloc(SIGN_PUBLIC_KEY_BYTES);
  sodium.crypto_sign_ed25519_sk_to_pk(publicKey, secretKey);
  return publicKey;
}

export function signDetached(message: Uint8Array, secretKey: Uint8Array): Buffer {
  if (secretKey.byteLength !== SIGN_SECRET_KEY_BYTES) throw new Error('Ed25519 secret key must be 64 bytes');
  const sig = Buffer.alloc(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(sig, message, secretKey);
  return sig;
}

/** False (never a throw) for a wrong-length signature or key, so callers map it to one error. */
export function verifyDetached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== SIGN_PUBLIC_KEY_BYTES) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}

/** Starts a secretstream for pushing; returns the 24-byte stream header to store. */
export function streamInitPush(key: Uint8Array): { state: Buffer; header: Buffer } {
  const state = Buffer.alloc(STREAM_STATE_BYTES);
  const header = Buffer.alloc(STREAM_HEADER_BYTES);
  sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, key);
  return { state, header };
}

export function streamInitPull(key: Uint8Array, header: Uint8Array): Buffer {
  const state = Buffer.alloc(STREAM_STATE_BYTES);
  sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key);
  return state;
}

/** Encrypts one frame into `out` (length = message + STREAM_ABYTES). */
export function streamPush(state: Buffer, out: Uint8Array, message: Uint8Array, tag: number): void {
  sodium.crypto_secretstream_xchacha20poly1305_push(state, out, message, null, tag);
}

/** Decrypts one frame into `out`; returns its tag, or null when the frame does not authenticate. */
export function streamPull(state: Buffer, out: Uint8Array, frame: Uint8Array): number | null {
  const tag = Buffer.alloc(1);
  try {
    sodium.crypto_secretstream_xchacha20poly1305_pull(state, out, tag, frame, null);
  } catch {
    return null;
  }
  return tag[0] ?? null;
}

export function aeadEncrypt(message: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.alloc(message.byteLength + AEAD_ABYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, message, ad, null, nonce, key);
  return out;
}

/** The plaintext, or null when the ciphertext, nonce, key or associated data do not match. */
export function aeadDecrypt(ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  if (ciphertext.byteLength < AEAD_ABYTES || nonce.byteLength !== AEAD_NONCE_BYTES ||
      key.byteLength !== AEAD_KEY_BYTES) return null;
  const out = Buffer.alloc(ciphertext.byteLength - AEAD_ABYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, ciphertext, ad, nonce, key);
  } catch {
    return null;
  }
  return out;
}
