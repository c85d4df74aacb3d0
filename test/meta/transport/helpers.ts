// Shared helpers for the transport tests: a seeded PRNG, sample messages of every
// type, and small waiting and collecting utilities for live transports.
import type { Entry, EntryType, Message } from '../../../src/raft/types.js';
import { startRaftTransport } from '../../../src/meta/transport/transport.js';
import type { RaftTransport, RaftTransportOptions } from '../../../src/meta/transport/types.js';
import { prng, randomInt } from '../../helpers/prng.js';
export { prng, randomInt };

/** $TRANSPORT_TEST_SEED if set, else random; tests print it so a failure can be replayed. */
export function testSeed(): number {
  const raw = process.env['TRANSPORT_TEST_SEED'];
  return raw !== undefined ? Number(raw) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}


export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export const SECRET = new Uint8Array(32).fill(7);
export const OTHER_SECRET = new Uint8Array(32).fill(8);
export const CLUSTER = 'andromeda';

function entry(rand: () => number, index: number, term: number): Entry {
  const type: EntryType = (['noop', 'command', 'config'] as const)[randomInt(rand, 0, 2)]!;
  return { index, term, type, data: type === 'noop' ? new Uint8Array(0) : randomBytes(rand, randomInt(rand, 0, 64)) };
}

/** One message of every type, with seeded field values. */
export function everyMessageType(rand: () => number, from: string, to: string): Message[] {
  const term = randomInt(rand, 1, 1000);
  const n = (): number => randomInt(rand, 0, 1_000_000);
  const flag = (): boolean => rand() < 0.5;
  const prevIndex = n();
  const chunk = randomBytes(rand, randomInt(rand, 0, 300));
  const offset = n();
  return [
    { type: 'PreVote', from, to, term, lastIndex: n(), lastTerm: n() },
    { type: 'PreVoteResp', from, to, term, granted: flag() },
    { type: 'Vote', from, to, term, lastIndex: n(), lastTerm: n(), transfer: flag() },
    { type: 'VoteResp', from, to, term, granted: flag() },
    {
      type: 'Append', from, to, term, prevIndex, prevTerm: n(), commit: n(),
      entries: Array.from({ length: randomInt(rand, 0, 5) }, (_, i) => entry(rand, prevIndex + 1 + i, term)),
    },
    { type: 'AppendResp', from, to, term, success: flag(), index: n(), hintTerm: n(), hintIndex: n() },
    { type: 'Heartbeat', from, to, term, commit: n(), readCtx: n() },
    { type: 'HeartbeatResp', from, to, term, readCtx: n() },
    {
      type: 'Snapshot', from, to, term, offset, chunk, total: offset + chunk.byteLength + randomInt(rand, 0, 10), done: flag(),
      meta: { index: n(), term: n(), config: { voters: [from, to, 'n-3'], learners: flag() ? ['l.1'] : [] } },
    },
    { type: 'SnapshotResp', from, to, term, index: n(), offset: n(), accepted: flag() },
    { type: 'TimeoutNow', from, to, term },
  ];
}

/** Polls `cond` every few ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: object | undefined;
}

/** A started transport plus everything it received and logged. */
export interface Member {
  readonly id: string;
  readonly transport: RaftTransport;
  readonly received: Message[];
  readonly batches: Message[][];
  readonly logs: LogLine[];
  readonly address: string;
}

export async function startMember(
  id: string, peers: Map<string, string>, extra: Partial<RaftTransportOptions> = {},
): Promise<Member> {
  const received: Message[] = [];
  const batches: Message[][] = [];
  const logs: LogLine[] = [];
  const transport = await startRaftTransport({
    id, clusterId: CLUSTER, host: '127.0.0.1', port: 0, secret: SECRET, peers,
    onMessages: (batch) => {
      batches.push(batch);
      received.push(...batch);
    },
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    ...extra,
  });
  return { id, transport, received, batches, logs, address: `127.0.0.1:${transport.port}` };
}
