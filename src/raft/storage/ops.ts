// The operations a WAL record carries, and their byte encoding. A record holds the
// operations of one fsync batch, in order; replay applies them in that order.
//
// op      := kind u8 | bodyLength u32 | body
// entry    (1): index u64 | term u64 | entryType u8 | data (rest of body)
// hard     (2): term u64 | commit u64 | hasVote u8 | vote UTF-8 (rest of body)
// truncate (3): fromIndex u64            — drop every stored entry with index >= fromIndex
// snapshot (4): index u64 | term u64 | mode u8 (0 compact, 1 reset)

import type { Entry, EntryType, HardState } from '../types.js';
import { ByteReader, ByteWriter } from './binary.js';
import { DecodeError } from './errors.js';

export type WalOp =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'truncate'; readonly from: number }
  /** compact: entries <= index are covered by the snapshot file; reset: the whole log is replaced by it. */
  | { readonly kind: 'snapshot'; readonly index: number; readonly term: number; readonly reset: boolean };

const KIND = { entry: 1, hardState: 2, truncate: 3, snapshot: 4 } as const;
const ENTRY_TYPES: readonly EntryType[] = ['noop', 'command', 'config'];
const OP_HEADER = 5;

function entryTypeCode(t: EntryType): number {
  const code = ENTRY_TYPES.indexOf(t);
  if (code < 0) throw new RangeError(`unknown entry type: ${String(t)}`);
  return code + 1;
}

function bodyLength(op: WalOp): number {
  switch (op.kind) {
    case 'entry':
      return 17 + op.entry.data.length;
    case 'hardState':
      return 17 + (op.hardState.vote === null ? 0 : Buffer.byteLength(op.hardState.vote, 'utf8'));
    case 'truncate':
      return 8;
    case 'snapshot':
      return 17;
  }
}

export function encodeOps(ops: readonly WalOp[]): Buffer {
  let size = 0;
  for (const op of ops) size += OP_HEADER + bodyLength(op);
  const w = new ByteWriter(Buffer.allocUnsafe(size));
  for (const op of ops) {
    w.u8(KIND[op.kind]);
    w.u32(bodyLength(op));
    switch (op.kind) {
      case 'entry':
        w.u64(op.entry.index);
        w.u64(op.entry.term);
        w.u8(entryTypeCode(op.entry.type));
        w.bytes(op.entry.data);
        break;
      case 'hardState':
        w.u64(op.hardState.term);
        w.u64(op.hardState.commit);
        w.u8(op.hardState.vote === null ? 0 : 1);
        if (op.hardState.vote !== null) w.bytes(Buffer.from(op.hardState.vote, 'utf8'));
        break;
      case 'truncate':
        w.u64(op.from);
        break;
      case 'snapshot':
        w.u64(op.index);
        w.u64(op.term);
        w.u8(op.reset ? 1 : 0);
        break;
    }
  }
  if (w.offset !== size) throw new Error(`op encoding size mismatch: wrote ${w.offset}, planned ${size}`);
  return w.buf;
}

function decodeOp(kind: number, r: ByteReader, len: number): WalOp {
  switch (kind) {
    case KIND.entry: {
      const index = r.u64('entry index');
      const term = r.u64('entry term');
      const code = r.u8('entry type');
      const type = ENTRY_TYPES[code - 1];
      if (type === undefined) throw new DecodeError(`unknown entry type code ${code}`);
      return { kind: 'entry', entry: { index, term, type, data: r.bytes(len - 17, 'entry data') } };
    }
    case KIND.hardState: {
      const term = r.u64('hard state term');
      const commit = r.u64('hard state commit');
      const hasVote = r.u8('hard state vote flag');
      if (hasVote > 1) throw new DecodeError(`bad vote flag ${hasVote}`);
      const voteBytes = r.view(len - 17, 'hard state vote');
      if (hasVote === 0 && voteBytes.length > 0) throw new DecodeError('vote bytes present without vote flag');
      const vote = hasVote === 1 ? voteBytes.toString('utf8') : null;
      return { kind: 'hardState', hardState: { term, vote, commit } };
    }
    case KIND.truncate:
      if (len !== 8) throw new DecodeError(`truncate op body is ${len} bytes, expected 8`);
      return { kind: 'truncate', from: r.u64('truncate index') };
    case KIND.snapshot: {
      if (len !== 17) throw new DecodeError(`snapshot op body is ${len} bytes, expected 17`);
      const index = r.u64('snapshot index');
      const term = r.u64('snapshot term');
      const mode = r.u8('snapshot mode');
      if (mode > 1) throw new DecodeError(`bad snapshot mode ${mode}`);
      return { kind: 'snapshot', index, term, reset: mode === 1 };
    }
    default:
      throw new DecodeError(`unknown op kind ${kind}`);
  }
}

/** Decodes a record payload. Throws DecodeError: a checksummed payload that does not parse is corruption (or a bug). */
export function decodeOps(payload: Buffer): WalOp[] {
  const ops: WalOp[] = [];
  const r = new ByteReader(payload);
  while (r.remaining > 0) {
    const kind = r.u8('op kind');
    const len = r.u32('op length');
    if (len > r.remaining) throw new DecodeError(`op body of ${len} bytes overruns the record (${r.remaining} left)`);
    const body = new ByteReader(payload, r.offset, r.offset + len);
    const op = decodeOp(kind, body, len);
    if (body.remaining !== 0) throw new DecodeError(`op kind ${kind} left ${body.remaining} unread bytes`);
    r.view(len, 'op body');
    ops.push(op);
  }
  return ops;
}
