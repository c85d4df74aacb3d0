// The JSON header form of a Raft message and its strict validation. Binary fields
// (entry data, snapshot chunks) are replaced by blob numbers; everything else is kept
// by name. Decoding rebuilds each message field by field from a per-type table, so no
// unknown key, wrong type or out-of-range number survives into the Raft core.
import type { Entry, EntryType, Message, MessageType, SnapshotMeta } from '../../raft/types.js';
import { TransportDecodeError } from './errors.js';

/** Member ids on the wire: short, printable, no separators that could confuse logs. */
export const MEMBER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$/;

const ENTRY_TYPES: ReadonlySet<string> = new Set<EntryType>(['noop', 'command', 'config']);

type Kind = 'uint' | 'bool' | 'blob' | 'entries' | 'meta';
type KindOf<V> = V extends number ? 'uint'
  : V extends boolean ? 'bool'
  : V extends Uint8Array ? 'blob'
  : V extends readonly Entry[] ? 'entries'
  : V extends SnapshotMeta ? 'meta'
  : never;
type Body<T extends MessageType> = Omit<Extract<Message, { type: T }>, 'type' | 'from' | 'to' | 'term'>;
// The compiler checks this table against Message: every field listed once, with its kind.
type Schema = { readonly [T in MessageType]: { readonly [K in keyof Body<T>]-?: KindOf<Body<T>[K]> } };

const SCHEMA: Schema = {
  PreVote: { lastIndex: 'uint', lastTerm: 'uint' },
  PreVoteResp: { granted: 'bool' },
  Vote: { lastIndex: 'uint', lastTerm: 'uint', transfer: 'bool' },
  VoteResp: { granted: 'bool' },
  Append: { prevIndex: 'uint', prevTerm: 'uint', entries: 'entries', commit: 'uint' },
  AppendResp: { success: 'bool', index: 'uint', hintTerm: 'uint', hintIndex: 'uint' },
  Heartbeat: { commit: 'uint', readCtx: 'uint' },
  HeartbeatResp: { readCtx: 'uint' },
  Snapshot: { meta: 'meta', offset: 'uint', chunk: 'blob', total: 'uint', done: 'bool' },
  SnapshotResp: { index: 'uint', offset: 'uint', accepted: 'bool' },
  TimeoutNow: {},
};

const ENVELOPE_KEYS = ['type', 'from', 'to', 'term'] as const;

/** Hands out the blob with the given number; called in header order, each number once. */
export type BlobSource = (ref: unknown, where: string) => Uint8Array;

type WireObject = Record<string, unknown>;

function fail(where: string, problem: string): never {
  throw new TransportDecodeError(`${where}: ${problem}`);
}

function isObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: WireObject, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(where, `unexpected field ${JSON.stringify(key.slice(0, 40))}`);
  }
  for (const key of allowed) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) fail(where, `missing field ${key}`);
  }
}

function uint(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, 'must be a non-negative safe integer');
  return v;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') fail(where, 'must be a boolean');
  return v;
}

function memberId(v: unknown, where: string): string {
  if (typeof v !== 'string' || !MEMBER_ID_PATTERN.test(v)) fail(where, 'must be a member id (1-128 chars of [A-Za-z0-9._:~-])');
  return v;
}

function memberIds(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) fail(where, 'must be an array of member ids');
  return v.map((id, i) => memberId(id, `${where}[${i}]`));
}

function snapshotMeta(v: unknown, where: string): SnapshotMeta {
  if (!isObject(v)) fail(where, 'must be an object');
  checkKeys(v, ['index', 'term', 'config'], where);
  const config = v['config'];
  if (!isObject(config)) fail(`${where}.config`, 'must be an object');
  checkKeys(config, ['voters', 'learners'], `${where}.config`);
  return {
    index: uint(v['index'], `${where}.index`),
    term: uint(v['term'], `${where}.term`),
    config: {
      voters: memberIds(config['voters'], `${where}.config.voters`),
      learners: memberIds(config['learners'], `${where}.config.learners`),
    },
  };
}

function entries(v: unknown, where: string, blob: BlobSource): Entry[] {
  if (!Array.isArray(v)) fail(where, 'must be an array');
  return v.map((e: unknown, i): Entry => {
    const at = `${where}[${i}]`;
    if (!isObject(e)) fail(at, 'must be an object');
    checkKeys(e, ['index', 'term', 'type', 'data'], at);
    const type = e['type'];
    if (typeof type !== 'string' || !ENTRY_TYPES.has(type)) fail(`${at}.type`, 'must be noop, command or config');
    return {
      index: uint(e['index'], `${at}.index`),
      term: uint(e['term'], `${at}.term`),
      type: type as EntryType,
      data: blob(e['data'], `${at}.data`),
    };
  });
}

function field(kind: Kind, v: unknown, where: string, blob: BlobSource): unknown {
  switch (kind) {
    case 'uint': return uint(v, where);
    case 'bool': return bool(v, where);
    case 'blob': return blob(v, where);
    case 'entries': return entries(v, where, blob);
    case 'meta': return snapshotMeta(v, where);
  }
}

function isMessageType(v: unknown): v is MessageType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(SCHEMA, v);
}

/** Validates one header object and rebuilds the message; throws TransportDecodeError. */
export function messageFromWire(wire: unknown, where: string, blob: BlobSource): Message {
  if (!isObject(wire)) fail(where, 'must be an object');
  const type = wire['type'];
  if (!isMessageType(type)) fail(`${where}.type`, 'unknown message type');
  const spec: Readonly<Record<string, Kind>> = SCHEMA[type];
  const names = Object.keys(spec);
  const at = `${where} (${type})`;
  checkKeys(wire, [...ENVELOPE_KEYS, ...names], at);
  const out: Record<string, unknown> = {
    type,
    from: memberId(wire['from'], `${at}.from`),
    to: memberId(wire['to'], `${at}.to`),
    term: uint(wire['term'], `${at}.term`),
  };
  for (const name of names) out[name] = field(spec[name]!, wire[name], `${at}.${name}`, blob);
  if (type === 'Snapshot' && (out['offset'] as number) + (out['chunk'] as Uint8Array).byteLength > (out['total'] as number)) {
    fail(at, 'chunk extends past total');
  }
  // Safe: every field of this message type was just checked against SCHEMA, which the
  // compiler ties to the Message union.
  return out as unknown as Message;
}

/** The header form of a message: binary fields become blob numbers appended to `blobs`. */
export function messageToWire(m: Message, blobs: Uint8Array[]): WireObject {
  const spec: Readonly<Record<string, Kind>> = SCHEMA[m.type];
  const src = m as unknown as Readonly<Record<string, unknown>>;
  const out: WireObject = { type: m.type, from: m.from, to: m.to, term: m.term };
  const ref = (data: unknown): number => blobs.push(data as Uint8Array) - 1;
  for (const [name, kind] of Object.entries(spec)) {
    const v = src[name];
    if (kind === 'blob') out[name] = ref(v);
    else if (kind === 'entries') {
      out[name] = (v as readonly Entry[]).map((e) => ({ index: e.index, term: e.term, type: e.type, data: ref(e.data) }));
    } else if (kind === 'meta') {
      const meta = v as SnapshotMeta;
      out[name] = { index: meta.index, term: meta.term, config: { voters: meta.config.voters, learners: meta.config.learners } };
    } else out[name] = v;
  }
  return out;
}
