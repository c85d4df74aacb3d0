// Frames of the node-to-node bodies (replication ops, partition copies): a uint32
// big-endian length, then that many bytes of JSON (an object), then as many raw bytes as
// the JSON's `bytes` field says (0 when absent). JSON is bounded; raw bytes are streamed.
import { ByteReader, WireError } from './byte-reader.js';

export const WIRE_VERSION = 1;
export const MAX_FRAME_JSON = 256 * 1024;

export function encodeFrame(json: Record<string, unknown>): Buffer {
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  if (body.length > MAX_FRAME_JSON) throw new Error(`frame JSON of ${body.length} bytes exceeds ${MAX_FRAME_JSON}`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** The next frame's JSON object, or null at a clean end of the body. */
export async function readFrame(reader: ByteReader): Promise<Record<string, unknown> | null> {
  const head = await reader.readExact(4, 'a frame length');
  if (head === null) return null;
  const length = head.readUInt32BE(0);
  if (length === 0 || length > MAX_FRAME_JSON) throw new WireError('too-large', `a frame announces ${length} bytes of JSON (allowed 1..${MAX_FRAME_JSON})`);
  const body = await reader.readExact(length, 'a frame');
  if (body === null) throw new WireError('truncated', 'the body ends before a frame');
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WireError('malformed', 'a frame is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new WireError('malformed', 'a frame is not a JSON object');
  return json as Record<string, unknown>;
}

/** Typed field access that throws WireError('malformed') naming the field. */
export class FrameFields {
  constructor(readonly json: Record<string, unknown>, readonly what: string) {}

  fail(field: string, rule: string): never {
    throw new WireError('malformed', `${this.what}: "${field}" ${rule}`);
  }

  count(field: string, min = 0): number {
    const v = this.json[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(field, `must be an integer ≥ ${min}`);
    return v;
  }

  string(field: string, max = 4096): string {
    const v = this.json[field];
    if (typeof v !== 'string' || v.length > max) this.fail(field, `must be a string of at most ${max} characters`);
    return v;
  }

  boolean(field: string): boolean {
    const v = this.json[field];
    if (typeof v !== 'boolean') this.fail(field, 'must be a boolean');
    return v;
  }

  nullableCount(field: string): number | null {
    return this.json[field] === null ? null : this.count(field);
  }

  digest(field: string): string {
    const v = this.json[field];
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) this.fail(field, 'must be 64 lowercase hex characters');
    return v;
  }

  only(fields: readonly string[]): void {
    for (const k of Object.keys(this.json)) if (!fields.includes(k)) this.fail(k, 'is not a known field');
  }
}
