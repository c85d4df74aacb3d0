// Little-endian byte writer/reader with bounds checks. Integers above 32 bits are
// JavaScript numbers restricted to the safe range (Raft indexes and terms fit easily).

import { DecodeError } from './errors.js';

const TWO_32 = 0x1_0000_0000;

export class ByteWriter {
  private pos = 0;
  constructor(readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  u8(v: number): void {
    this.pos = this.buf.writeUInt8(v, this.pos);
  }

  u16(v: number): void {
    this.pos = this.buf.writeUInt16LE(v, this.pos);
  }

  u32(v: number): void {
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }

  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a safe unsigned integer: ${v}`);
    this.u32(v % TWO_32);
    this.u32(Math.floor(v / TWO_32));
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

export class ByteReader {
  private pos: number;
  constructor(private readonly buf: Buffer, start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new DecodeError(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what: string): number {
    const lo = this.u32(what);
    const hi = this.u32(what);
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new DecodeError(`${what} exceeds the safe integer range`);
    return v;
  }

  /** A copy, so decoded values never pin the (possibly large) source buffer. */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A view (no copy) for bytes that are only inspected. */
  view(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}
