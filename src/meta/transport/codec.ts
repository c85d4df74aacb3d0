// One frame carries a batch of Raft messages. Layout (all integers big-endian):
//   u32 length of the rest | u8 version | u32 header length | header (UTF-8 JSON array)
//   | u32 blob count | blob count x u32 blob length | the blobs, back to back
// Binary payloads travel as blobs, referenced from the header by number, so entry data
// and snapshot chunks are never base64-inflated. See docs/transport.md.
import type { Message } from '../../raft/types.js';
import { TransportDecodeError, TransportEncodeError } from './errors.js';
import { messageFromWire, messageToWire, type BlobSource } from './wire-schema.js';

export const FRAME_VERSION = 1;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Bounds accepted for maxFrameBytes: room for a useful batch, and a u32 length. */
export const MIN_MAX_FRAME_BYTES = 1024;
export const MAX_MAX_FRAME_BYTES = 0xffff_ffff;
/** Bytes a frame costs besides its messages: prefix, version, two counts and "[]". */
export const FRAME_OVERHEAD_BYTES = 4 + 1 + 4 + 4 + 2;
// A blob number in the header never needs more digits than a u32.
const MAX_REF_DIGITS = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function checkMaxFrameBytes(max: number): number {
  if (!Number.isSafeInteger(max) || max < MIN_MAX_FRAME_BYTES || max > MAX_MAX_FRAME_BYTES) {
    throw new RangeError(`maxFrameBytes must be an integer in [${MIN_MAX_FRAME_BYTES}, ${MAX_MAX_FRAME_BYTES}], got ${max}`);
  }
  return max;
}

/** Blob source for outgoing checks: hands back the caller's own bytes, in order. */
function outgoingBlobs(blobs: readonly Uint8Array[]): BlobSource {
  let next = 0;
  return (ref, where) => {
    const blob = blobs[next];
    if (ref !== next || !(blob instanceof Uint8Array)) throw new TransportDecodeError(`${where}: must be a Uint8Array`);
    next++;
    return blob;
  };
}

/**
 * Validates an outgoing message exactly as a receiver would, and returns an upper
 * bound on the bytes it adds to a frame. Throws TransportEncodeError if it is malformed.
 */
export function measureMessage(m: Message): number {
  try {
    const blobs: Uint8Array[] = [];
    const wire = messageToWire(m, blobs);
    messageFromWire(wire, 'message', outgoingBlobs(blobs));
    let bytes = Buffer.byteLength(JSON.stringify(wire)) + 1; // + the separating comma
    for (const blob of blobs) bytes += MAX_REF_DIGITS + 4 + blob.byteLength;
    return bytes;
  } catch (err) {
    throw new TransportEncodeError(`cannot send message: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Encodes a non-empty batch into one frame; throws TransportEncodeError if it exceeds maxFrameBytes. */
export function encodeFrame(messages: readonly Message[], maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (messages.length === 0) throw new TransportEncodeError('cannot encode an empty batch');
  const blobs: Uint8Array[] = [];
  const header = Buffer.from(JSON.stringify(messages.map((m) => messageToWire(m, blobs))));
  let blobBytes = 0;
  for (const blob of blobs) blobBytes += blob.byteLength;
  const total = 4 + 1 + 4 + header.byteLength + 4 + 4 * blobs.length + blobBytes;
  if (total > maxFrameBytes) throw new TransportEncodeError(`frame of ${total} bytes exceeds the limit of ${maxFrameBytes}`);
  const frame = Buffer.allocUnsafe(total);
  let at = frame.writeUInt32BE(total - 4, 0);
  at = frame.writeUInt8(FRAME_VERSION, at);
  at = frame.writeUInt32BE(header.byteLength, at);
  at += header.copy(frame, at);
  at = frame.writeUInt32BE(blobs.length, at);
  for (const blob of blobs) at = frame.writeUInt32BE(blob.byteLength, at);
  for (const blob of blobs) {
    frame.set(blob, at);
    at += blob.byteLength;
  }
  return frame;
}

/** A bounds-checked cursor over one frame. */
class Cursor {
  at = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number { return this.buf.byteLength - this.at; }
  need(n: number, what: string): void {
    if (n > this.left) throw new TransportDecodeError(`truncated frame: ${what} needs ${n} bytes, ${this.left} left`);
  }
  u8(what: string): number { this.need(1, what); return this.buf.readUInt8(this.at++); }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

function parseHeader(bytes: Buffer): unknown[] {
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new TransportDecodeError('frame header is not valid UTF-8 JSON');
  }
  if (!Array.isArray(header)) throw new TransportDecodeError('frame header must be a JSON array of messages');
  if (header.length === 0) throw new TransportDecodeError('frame carries no messages');
  return header;
}

/**
 * Decodes one whole frame (length prefix included). Validates everything and throws
 * TransportDecodeError on any defect; returned messages own copies of their bytes.
 */
export function decodeFrame(frame: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Message[] {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buf.byteLength > maxFrameBytes) throw new TransportDecodeError(`frame of ${buf.byteLength} bytes exceeds the limit of ${maxFrameBytes}`);
  const c = new Cursor(buf);
  const length = c.u32('frame length');
  if (length !== c.left) throw new TransportDecodeError(`frame length ${length} does not match the ${c.left} bytes present`);
  const version = c.u8('version');
  if (version !== FRAME_VERSION) throw new TransportDecodeError(`unsupported frame version ${version}`);
  const header = parseHeader(c.bytes(c.u32('header length'), 'header'));
  const count = c.u32('blob count');
  c.need(4 * count, 'blob length table');
  const lengths: number[] = [];
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const n = c.u32('blob length');
    lengths.push(n);
    sum += n;
  }
  if (sum !== c.left) throw new TransportDecodeError(`blob lengths add up to ${sum} but ${c.left} bytes follow`);
  const offsets: number[] = [];
  for (const n of lengths) {
    offsets.push(c.at);
    c.at += n;
  }
  let next = 0;
  const blob: BlobSource = (ref, where) => {
    if (ref !== next) {
      throw new TransportDecodeError(`${where}: blob reference ${typeof ref === 'number' ? ref : typeof ref} is not the next blob (${next})`);
    }
    if (next >= count) throw new TransportDecodeError(`${where}: blob ${next} does not exist (frame has ${count})`);
    const start = offsets[next]!;
    next++;
    // A copy, so a retained entry does not pin the whole frame in memory.
    return new Uint8Array(buf.subarray(start, start + lengths[next - 1]!));
  };
  const messages = header.map((wire, i) => messageFromWire(wire, `message ${i}`, blob));
  if (next !== count) throw new TransportDecodeError(`frame carries ${count} blobs but the header references ${next}`);
  return messages;
}
