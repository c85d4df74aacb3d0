// The requests of each workload for the load generator: what is sent and what counts as
// a success. Bodies are built per request for both systems alike (unique ids and keys).
import type { RequestSpec } from './load.js';

export interface Workload {
  request: (worker: number, i: number) => RequestSpec;
  check: (status: number, body: Buffer) => boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** How long a benchmark revocation lasts: it keeps the revoked set (copied per command) bounded. */
export const REVOKE_TTL_MS = 60_000;

/** The ~100-byte `revoke` command of worker w's i-th operation; unique credential id. */
export function revokeCommand(runId: string, concurrency: number, worker: number, i: number): { type: 'revoke'; credentialId: string; expiresAt: number } {
  return { type: 'revoke', credentialId: `bench-${runId}-c${concurrency}-w${worker}-${i}`, expiresAt: Date.now() + REVOKE_TTL_MS };
}

/** Meta: one small command through the Raft log, answered once committed and applied. */
export function metaCommand(token: string, runId: string, concurrency: number): Workload {
  const auth = { authorization: `Bearer ${token}`, ...JSON_TYPE };
  return {
    // One client session per worker (one command at a time each, as MetaClient does).
    request: (w, i) => ({
      method: 'POST', path: '/v1/meta/commands', headers: auth,
      body: Buffer.from(JSON.stringify({ clientId: `bench-${runId}-c${concurrency}-w${w}`, seq: i + 1, command: revokeCommand(runId, concurrency, w, i) })),
    }),
    check: (status, body) => status === 200 && (JSON.parse(body.toString()) as { result?: { ok?: boolean } }).result?.ok === true,
  };
}

/** Meta: an authenticated GET (the whole state, or this member's status). */
export function metaGet(token: string, path: string): Workload {
  const spec: RequestSpec = { method: 'GET', path, headers: { authorization: `Bearer ${token}` } };
  return { request: () => spec, check: (status) => status === 200 };
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** etcd: a put of a 100-byte value under a unique key, through the JSON gateway. */
export function etcdPut(api: string, runId: string, concurrency: number, value: Buffer): Workload {
  const v = b64(value);
  return {
    request: (w, i) => ({
      method: 'POST', path: `${api}/kv/put`, headers: JSON_TYPE,
      body: Buffer.from(JSON.stringify({ key: b64(`bench/${runId}/c${concurrency}/w${w}/${i}`), value: v })),
    }),
    check: (status, body) => status === 200 && body.includes('"header"'),
  };
}

/** etcd: a range read of one key; linearizable is the gateway's default (serializable: false). */
export function etcdRange(api: string, key: string): Workload {
  const spec: RequestSpec = { method: 'POST', path: `${api}/kv/range`, headers: JSON_TYPE, body: Buffer.from(JSON.stringify({ key: b64(key) })) };
  return { request: () => spec, check: (status, body) => status === 200 && body.includes('"kvs"') };
}
