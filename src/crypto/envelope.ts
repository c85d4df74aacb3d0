// Envelope encryption of object values: header || secretstream frames (see
// envelope-format.ts). Streams for values of any size with bounded memory, and whole-buffer
// helpers for small ones. A decrypt stream that errors may already have emitted the
// plaintext of earlier, authentic frames: consumers must treat the whole output as void on
// error (pipeline() and discard), never as a shorter value.
import { Transform, type TransformCallback } from 'node:stream';
import { EnvelopeError } from './errors.js';
import { decodeHeader, encodeHeader, type EncryptionHeader, HEADER_LENGTH, type WrappedKey } from './envelope-format.js';
import { FrameOpener, FrameSealer } from './frames.js';
import { type KeyService, unwrapOne } from './key-service.js';
import { generateDataKey, type DataKey } from './key-wrap.js';

export interface SealingKey {
  readonly dataKey: DataKey;
  /** The data key as wrapped for this object (KeyService.wrap). */
  readonly wrapped: WrappedKey;
}

/** Either a data key already unwrapped (e.g. from a batch), or a key service to unwrap the header with. */
export type OpeningKey =
  | { readonly dataKey: DataKey }
  | { readonly keys: KeyService; readonly objectKey: string };

/** A fresh data key wrapped for `objectKey`: what an encrypt stream needs. */
export async function newSealingKey(keys: KeyService, objectKey: string): Promise<SealingKey> {
  const dataKey = generateDataKey();
  const [wrapped] = await keys.wrap([{ objectKey, dataKey }]);
  if (wrapped === undefined) throw new Error('key service returned no wrapped key');
  return { dataKey, wrapped };
}

/** Plaintext in, header + frames out. */
export function createEncryptStream(key: SealingKey): Transform {
  const sealer = new FrameSealer(key.dataKey);
  const header = encodeHeader({ ...key.wrapped, streamHeader: sealer.streamHeader });
  let headerSent = false;
  const sendHeader = (stream: Transform): void => {
    if (!headerSent) stream.push(header);
    headerSent = true;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        sendHeader(this);
        sealer.write(chunk, (frame) => this.push(frame));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback): void {
      try {
        sendHeader(this);
        sealer.end((frame) => this.push(frame));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err: Error | null, callback: (error: Error | null) => void): void {
      sealer.destroy();
      callback(err);
    },
  });
}

/** Header + frames in, plaintext out; errors are EnvelopeErrors. */
export function createDecryptStream(key: OpeningKey): Transform {
  const headerBytes = Buffer.alloc(HEADER_LENGTH);
  let headerFilled = 0;
  let opener: FrameOpener | null = null;

  const openHeader = async (): Promise<FrameOpener> => {
    const header = decodeHeader(headerBytes);
    const dataKey = 'dataKey' in key ? key.dataKey : await unwrapOne(key.keys, key.objectKey, header);
    return new FrameOpener(dataKey, header.streamHeader);
  };

  const consume = async (stream: Transform, chunk: Buffer): Promise<void> => {
    let rest = chunk;
    if (opener === null) {
      const n = Math.min(HEADER_LENGTH - headerFilled, rest.length);
      rest.copy(headerBytes, headerFilled, 0, n);
      headerFilled += n;
      rest = rest.subarray(n);
      if (headerFilled < HEADER_LENGTH) return;
      opener = await openHeader();
    }
    opener.write(rest, (plain) => stream.push(plain));
  };

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      consume(this, chunk).then(() => callback(), (err: Error) => callback(err));
    },
    flush(callback: TransformCallback): void {
      try {
        if (opener === null) throw new EnvelopeError('truncated', 'encrypted object is truncated inside its header');
        opener.end((plain) => this.push(plain));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err: Error | null, callback: (error: Error | null) => void): void {
      opener?.destroy();
      callback(err);
    },
  });
}

/** Parses the header at the start of a stored object (e.g. to batch its unwrap). */
export function readEncryptionHeader(stored: Uint8Array): EncryptionHeader {
  if (stored.byteLength < HEADER_LENGTH) {
    // decodeHeader tells "not ours" (bad magic) from "cut short".
    return decodeHeader(stored);
  }
  return decodeHeader(stored.subarray(0, HEADER_LENGTH));
}

/** Whole-buffer encryption for small values; same bytes as the stream produces. */
export function encryptBuffer(plaintext: Uint8Array, key: SealingKey): Buffer {
  const sealer = new FrameSealer(key.dataKey);
  const parts: Buffer[] = [encodeHeader({ ...key.wrapped, streamHeader: sealer.streamHeader })];
  sealer.write(plaintext, (frame) => parts.push(frame));
  sealer.end((frame) => parts.push(frame));
  return Buffer.concat(parts);
}

/** Whole-buffer decryption; throws EnvelopeError, never returns partial data. */
export function decryptBuffer(stored: Uint8Array, dataKey: DataKey): Buffer {
  const header = readEncryptionHeader(stored);
  const opener = new FrameOpener(dataKey, header.streamHeader);
  const parts: Buffer[] = [];
  try {
    opener.write(stored.subarray(HEADER_LENGTH), (plain) => parts.push(plain));
    opener.end((plain) => parts.push(plain));
  } catch (err) {
    opener.destroy();
    for (const p of parts) p.fill(0);
    throw err;
  }
  return Buffer.concat(parts);
}

/** Encrypts a small value for `objectKey` with a fresh data key wrapped by `keys`. */
export async function sealValue(keys: KeyService, objectKey: string, plaintext: Uint8Array): Promise<Buffer> {
  const key = await newSealingKey(keys, objectKey);
  try {
    return encryptBuffer(plaintext, key);
  } finally {
    key.dataKey.wipe();
  }
}

/** Decrypts a small value stored under `objectKey`, unwrapping its data key through `keys`. */
export async function openValue(keys: KeyService, objectKey: string, stored: Uint8Array): Promise<Buffer> {
  const dataKey = await unwrapOne(keys, objectKey, readEncryptionHeader(stored));
  try {
    return decryptBuffer(stored, dataKey);
  } finally {
    dataKey.wipe();
  }
}
