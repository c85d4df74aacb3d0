// A batch of replication ops as one streamed body: what the primary POSTs to
// /v1/partitions/{p}/replicate and what GET /v1/partitions/{p}/ops answers.
//
//   {type:"ops", v:1, partition, epoch, fromSeq, toSeq, count}
//   count × op: {op:"put", seq, key, meta:{contentType, plainSize, digest, size, createdAt}, bytes:size} + bytes
//              | {op:"delete", seq, key, createdAt}
//              | {op:"skip", seq}         (a put a later op superseded)
//   {type:"end"}
//
// fromSeq < seq₁ < seq₂ < … ≤ toSeq. A receiver at lastSeq = fromSeq that applies every op
// ends at toSeq. Values are streamed, never held whole.
import { validateKey } from '../../common/keys.js';
import { ByteReader, WireError } from './byte-reader.js';
import { encodeFrame, FrameFields, readFrame, WIRE_VERSION } from './frames.js';

export interface OpsHeader {
  readonly partition: number;
  readonly epoch: number;
  /** The receiver must be at exactly this sequence. */
  readonly fromSeq: number;
  /** The receiver is at this sequence once every op is applied. */
  readonly toSeq: number;
  readonly count: number;
}

export interface ValueMeta {
  readonly contentType: string;
  readonly plainSize: number | null;
  readonly digest: string;
  readonly size: number;
  readonly createdAt: number;
}

export type WireOp<Body> =
  | { readonly op: 'put'; readonly seq: number; readonly key: string; readonly meta: ValueMeta; readonly body: Body }
  | { readonly op: 'delete'; readonly seq: number; readonly key: string; readonly createdAt: number }
  | { readonly op: 'skip'; readonly seq: number };

export type OutgoingOp = WireOp<AsyncIterable<Uint8Array>>;
export type IncomingOp = WireOp<AsyncIterable<Buffer>>;

export const MAX_OPS_PER_BATCH = 10_000;

export function checkOpsHeader(h: OpsHeader): void {
  const ok = [h.partition, h.epoch, h.fromSeq, h.toSeq, h.count].every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!ok || h.toSeq < h.fromSeq || h.count > MAX_OPS_PER_BATCH || h.count > h.toSeq - h.fromSeq) {
    throw new WireError('malformed', `ops header is inconsistent: ${JSON.stringify(h)}`);
  }
}

export async function* encodeOps(header: OpsHeader, ops: Iterable<OutgoingOp> | AsyncIterable<OutgoingOp>): AsyncGenerator<Buffer> {
  checkOpsHeader(header);
  yield encodeFrame({ type: 'ops', v: WIRE_VERSION, ...header });
  let count = 0;
  let last = header.fromSeq;
  for await (const op of ops) {
    if (op.seq <= last || op.seq > header.toSeq) throw new Error(`op ${op.seq} is out of order after ${last} (toSeq ${header.toSeq})`);
    last = op.seq;
    count++;
    if (op.op === 'put') {
      yield encodeFrame({ op: 'put', seq: op.seq, key: op.key, meta: { ...op.meta }, bytes: op.meta.size });
      let sent = 0;
      for await (const piece of op.body) {
        sent += piece.byteLength;
        if (sent > op.meta.size) throw new Error(`value of ${JSON.stringify(op.key)} is longer than its ${op.meta.size} bytes`);
        yield Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      }
      if (sent !== op.meta.size) throw new Error(`value of ${JSON.stringify(op.key)} ended after ${sent} of ${op.meta.size} bytes`);
    } else if (op.op === 'delete') {
      yield encodeFrame({ op: 'delete', seq: op.seq, key: op.key, createdAt: op.createdAt });
    } else {
      yield encodeFrame({ op: 'skip', seq: op.seq });
    }
  }
  if (count !== header.count) throw new Error(`ops batch announced ${header.count} ops, carried ${count}`);
  yield encodeFrame({ type: 'end' });
}

/** Reads one ops body; every put's body must be read (or is skipped) before the next op. */
export class OpsReader {
  readonly #reader: ByteReader;
  #header: OpsHeader | null = null;
  #seen = 0;
  #last = 0;
  #pending: AsyncGenerator<Buffer> | null = null;
  #finished = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#reader = new ByteReader(source);
  }

  get bytesRead(): number {
    return this.#reader.consumed;
  }

  async header(): Promise<OpsHeader> {
    if (this.#header !== null) return this.#header;
    const json = await readFrame(this.#reader);
    if (json === null) throw new WireError('truncated', 'the body is empty: no ops header');
    const f = new FrameFields(json, 'ops header');
    f.only(['type', 'v', 'partition', 'epoch', 'fromSeq', 'toSeq', 'count']);
    if (json['type'] !== 'ops') f.fail('type', 'must be "ops"');
    if (json['v'] !== WIRE_VERSION) f.fail('v', `must be ${WIRE_VERSION}`);
    const header: OpsHeader = { partition: f.count('partition'), epoch: f.count('epoch'), fromSeq: f.count('fromSeq'), toSeq: f.count('toSeq'), count: f.count('count') };
    checkOpsHeader(header);
    this.#header = header;
    this.#last = header.fromSeq;
    return header;
  }

  /** The next op, or null after the end frame (which must close the body). */
  async next(): Promise<IncomingOp | null> {
    const header = await this.header();
    if (this.#finished) return null;
    if (this.#pending !== null) {
      for await (const _ of this.#pending); // an unread value: skip its bytes
      this.#pending = null;
    }
    const json = await readFrame(this.#reader);
    if (json === null) throw new WireError('truncated', `the body ends after ${this.#seen} of ${header.count} ops, without an end frame`);
    if (json['type'] === 'end') {
      new FrameFields(json, 'end frame').only(['type']);
      if (this.#seen !== header.count) throw new WireError('malformed', `the batch announced ${header.count} ops, carried ${this.#seen}`);
      if (!(await this.#reader.atEnd())) throw new WireError('malformed', 'bytes follow the end frame');
      this.#finished = true;
      return null;
    }
    if (this.#seen >= header.count) throw new WireError('malformed', `more than the ${header.count} ops announced`);
    const op = parseOp(json, this.#reader);
    if (op.seq <= this.#last || op.seq > header.toSeq) {
      throw new WireError('malformed', `op sequence ${op.seq} is out of order (after ${this.#last}, at most ${header.toSeq})`);
    }
    this.#last = op.seq;
    this.#seen++;
    if (op.op === 'put') this.#pending = op.body as AsyncGenerator<Buffer>;
    return op;
  }

  async close(): Promise<void> {
    await this.#reader.close();
  }
}

function parseOp(json: Record<string, unknown>, reader: ByteReader): IncomingOp {
  const f = new FrameFields(json, 'op');
  const seq = f.count('seq', 1);
  switch (json['op']) {
    case 'put': {
      f.only(['op', 'seq', 'key', 'meta', 'bytes']);
      const key = wireKey(f);
      const metaJson = json['meta'];
      if (typeof metaJson !== 'object' || metaJson === null || Array.isArray(metaJson)) f.fail('meta', 'must be an object');
      const meta = parseValueMeta(new FrameFields(metaJson as Record<string, unknown>, `meta of op ${seq}`));
      if (f.count('bytes') !== meta.size) f.fail('bytes', 'must equal meta.size');
      return { op: 'put', seq, key, meta, body: reader.stream(meta.size, `the value of op ${seq}`) };
    }
    case 'delete':
      f.only(['op', 'seq', 'key', 'createdAt']);
      return { op: 'delete', seq, key: wireKey(f), createdAt: f.count('createdAt') };
    case 'skip':
      f.only(['op', 'seq']);
      return { op: 'skip', seq };
    default:
      return f.fail('op', 'must be "put", "delete" or "skip"');
  }
}

export function parseValueMeta(f: FrameFields): ValueMeta {
  f.only(['contentType', 'plainSize', 'digest', 'size', 'createdAt']);
  return { contentType: f.string('contentType', 256), plainSize: f.nullableCount('plainSize'), digest: f.digest('digest'), size: f.count('size'), createdAt: f.count('createdAt') };
}

export function wireKey(f: FrameFields, field = 'key'): string {
  const key = f.string(field, 4096);
  try {
    validateKey(key);
  } catch (err) {
    f.fail(field, `is not a valid key: ${(err as Error).message}`);
  }
  return key;
}
