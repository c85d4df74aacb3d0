// The byte-exact layout of an encrypted object (docs/encryption-format.md):
//   header (138 bytes, fixed) || frame 1 || ... || frame n
// Every frame but the last holds exactly FRAME_PLAINTEXT_BYTES of plaintext and the tag
// MESSAGE; the last holds 0..FRAME_PLAINTEXT_BYTES and the tag FINAL. A fixed-size header
// and fixed-size frames make every size and frame offset computable from lengths alone.
import { EnvelopeError } from './errors.js';
import { AEAD_ABYTES, AEAD_KEY_BYTES, AEAD_NONCE_BYTES, STREAM_ABYTES, STREAM_HEADER_BYTES } from './sodium.js';

export const MAGIC: Buffer = Buffer.from('SOPE', 'ascii');
export const FORMAT_VERSION = 1;
export const KEK_NAME_FIELD_BYTES = 32;
export const FRAME_PLAINTEXT_BYTES = 64 * 1024;
export const FRAME_OVERHEAD_BYTES: number = STREAM_ABYTES;
export const FRAME_CIPHERTEXT_BYTES: number = FRAME_PLAINTEXT_BYTES + FRAME_OVERHEAD_BYTES;
export const WRAPPED_KEY_BYTES: number = AEAD_KEY_BYTES + AEAD_ABYTES;

// Offsets of the header fields.
const OFF_VERSION = 4;
const OFF_NAME_LEN = 5;
const OFF_NAME = 6;
const OFF_KEK_VERSION = OFF_NAME + KEK_NAME_FIELD_BYTES; // 38
const OFF_NONCE = OFF_KEK_VERSION + 4; // 42
const OFF_WRAPPED = OFF_NONCE + AEAD_NONCE_BYTES; // 66
const OFF_STREAM = OFF_WRAPPED + WRAPPED_KEY_BYTES; // 114
export const HEADER_LENGTH: number = OFF_STREAM + STREAM_HEADER_BYTES; // 138
/** The header bytes that identify format and KEK: they are part of the wrap's associated data. */
export const KEK_ID_PREFIX_LENGTH: number = OFF_NONCE;

const KEK_NAME = /^[a-z][a-z0-9_-]*$/;

/** A data key as wrapped by a KEK. */
export interface WrappedKey {
  readonly kekName: string;
  readonly kekVersion: number;
  /** 24-byte XChaCha20-Poly1305 nonce of the wrap. */
  readonly nonce: Buffer;
  /** 48 bytes: the encrypted 32-byte data key and its 16-byte tag. */
  readonly wrappedKey: Buffer;
}

export interface EncryptionHeader extends WrappedKey {
  /** The 24-byte secretstream header the frames were encrypted under. */
  readonly streamHeader: Buffer;
}

/** magic || version || KEK name length || KEK name (zero padded) || KEK version: 42 bytes. */
export function encodeKekIdPrefix(kekName: string, kekVersion: number): Buffer {
  if (typeof kekName !== 'string' || kekName.length > KEK_NAME_FIELD_BYTES || !KEK_NAME.test(kekName)) {
    throw new Error('KEK name must be 1..32 characters of a-z, 0-9, _ or -, starting with a letter');
  }
  if (!Number.isInteger(kekVersion) || kekVersion < 1 || kekVersion > 0xffffffff) {
    throw new Error('KEK version must be an integer from 1 to 4294967295');
  }
  const out = Buffer.alloc(KEK_ID_PREFIX_LENGTH);
  MAGIC.copy(out, 0);
  out[OFF_VERSION] = FORMAT_VERSION;
  out[OFF_NAME_LEN] = kekName.length;
  out.write(kekName, OFF_NAME, 'ascii');
  out.writeUInt32BE(kekVersion, OFF_KEK_VERSION);
  return out;
}

export function encodeHeader(header: EncryptionHeader): Buffer {
  if (header.nonce.length !== AEAD_NONCE_BYTES) throw new Error('wrap nonce must be 24 bytes');
  if (header.wrappedKey.length !== WRAPPED_KEY_BYTES) throw new Error(`wrapped key must be ${WRAPPED_KEY_BYTES} bytes`);
  if (header.streamHeader.length !== STREAM_HEADER_BYTES) throw new Error('stream header must be 24 bytes');
  const out = Buffer.alloc(HEADER_LENGTH);
  encodeKekIdPrefix(header.kekName, header.kekVersion).copy(out, 0);
  header.nonce.copy(out, OFF_NONCE);
  header.wrappedKey.copy(out, OFF_WRAPPED);
  header.streamHeader.copy(out, OFF_STREAM);
  return out;
}

/** Parses exactly HEADER_LENGTH bytes; throws EnvelopeError for anything not produced by encodeHeader. */
export function decodeHeader(bytes: Uint8Array): EncryptionHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): EnvelopeError => new EnvelopeError('malformed-header', `encryption header is malformed: ${why}`);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('bad magic (not an encrypted object)');
  if (buf.length < HEADER_LENGTH) throw new EnvelopeError('truncated', 'encrypted object is truncated inside its header');
  if (buf.length > HEADER_LENGTH) throw bad(`expected ${HEADER_LENGTH} bytes`);
  if (buf[OFF_VERSION] !== FORMAT_VERSION) {
    throw new EnvelopeError('unsupported-version', `encryption format version ${buf[OFF_VERSION]} is not supported (this build reads ${FORMAT_VERSION})`);
  }
  const nameLength = buf[OFF_NAME_LEN] ?? 0;
  if (nameLength < 1 || nameLength > KEK_NAME_FIELD_BYTES) throw bad('KEK name length out of range');
  const kekName = buf.toString('latin1', OFF_NAME, OFF_NAME + nameLength);
  if (!KEK_NAME.test(kekName)) throw bad('KEK name has invalid characters');
  if (buf.subarray(OFF_NAME + nameLength, OFF_KEK_VERSION).some((b) => b !== 0)) throw bad('KEK name padding is not zero');
  const kekVersion = buf.readUInt32BE(OFF_KEK_VERSION);
  if (kekVersion === 0) throw bad('KEK version 0');
  return {
    kekName,
    kekVersion,
    nonce: Buffer.from(buf.subarray(OFF_NONCE, OFF_WRAPPED)),
    wrappedKey: Buffer.from(buf.subarray(OFF_WRAPPED, OFF_STREAM)),
    streamHeader: Buffer.from(buf.subarray(OFF_STREAM, HEADER_LENGTH)),
  };
}

/** How many frames a plaintext of this length becomes (at least one: the FINAL frame). */
export function frameCount(plaintextLength: number): number {
  assertLength(plaintextLength, 'plaintext length');
  return Math.max(1, Math.ceil(plaintextLength / FRAME_PLAINTEXT_BYTES));
}

/** Stored size (header included) of an object whose plaintext has this length. */
export function ciphertextLength(plaintextLength: number): number {
  return HEADER_LENGTH + plaintextLength + frameCount(plaintextLength) * FRAME_OVERHEAD_BYTES;
}

/** The inverse of ciphertextLength; throws EnvelopeError if no plaintext length gives this size. */
export function plaintextLength(storedLength: number): number {
  assertLength(storedLength, 'ciphertext length');
  const body = storedLength - HEADER_LENGTH;
  if (body < FRAME_OVERHEAD_BYTES) throw new EnvelopeError('truncated', 'encrypted object is shorter than a header and one frame');
  const frames = Math.ceil(body / FRAME_CIPHERTEXT_BYTES);
  const plain = body - frames * FRAME_OVERHEAD_BYTES;
  if (plain < 0 || ciphertextLength(plain) !== storedLength) {
    throw new EnvelopeError('truncated', `no plaintext encrypts to ${storedLength} bytes`);
  }
  return plain;
}

function assertLength(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative safe integer`);
}
