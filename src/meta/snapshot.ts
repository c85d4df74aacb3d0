// Snapshot encoding of the meta state: versioned JSON in UTF-8. decodeState checks
// the shape of everything it reads and then the state invariants, so a damaged or
// foreign snapshot fails loudly at restore instead of corrupting the cluster later.

import { countersOfSnapshot } from './counters.js';
import { checkInvariants } from './invariants.js';
import type { MetaState } from './types.js';

const FORMAT = 'space-opera/meta-state';
const FORMAT_VERSION = 1;

export function encodeState(state: MetaState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ format: FORMAT, v: FORMAT_VERSION, state }));
}

export function decodeState(bytes: Uint8Array): MetaState {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new Error(`meta snapshot: not UTF-8 JSON (${(err as Error).message})`);
  }
  const root = obj(doc, 'snapshot');
  if (root['format'] !== FORMAT) throw new Error(`meta snapshot: format is ${JSON.stringify(root['format'])}, expected "${FORMAT}"`);
  if (root['v'] !== FORMAT_VERSION) throw new Error(`meta snapshot: version ${String(root['v'])} is not supported (expected ${FORMAT_VERSION})`);
  const state = checkShape(root['state']);
  checkInvariants(state);
  return state;
}

function checkShape(input: unknown): MetaState {
  const s = obj(input, 'state');
  if (s['settings'] !== null) {
    const st = obj(s['settings'], 'settings');
    str(st['clusterId'], 'settings.clusterId');
    for (const k of ['partitions', 'replication', 'minInsync', 'repairGraceMs']) int(st[k], `settings.${k}`);
  }
  for (const [id, url] of Object.entries(obj(s['members'], 'members'))) str(url, `members.${id}`);
  for (const [id, n] of Object.entries(obj(s['nodes'], 'nodes'))) {
    const node = obj(n, `nodes.${id}`);
    for (const k of ['id', 'url', 'publicKey', 'state']) str(node[k], `nodes.${id}.${k}`);
    if (node['zone'] !== null) str(node['zone'], `nodes.${id}.zone`);
    num(node['capacity'], `nodes.${id}.capacity`);
    int(node['since'], `nodes.${id}.since`);
    if (node['lastHeartbeat'] !== null) int(node['lastHeartbeat'], `nodes.${id}.lastHeartbeat`);
  }
  arr(s['partitions'], 'partitions').forEach((p, i) => {
    const part = obj(p, `partitions[${i}]`);
    int(part['epoch'], `partitions[${i}].epoch`);
    if (part['primary'] !== null) str(part['primary'], `partitions[${i}].primary`);
    for (const k of ['replicas', 'learners']) arr(part[k], `partitions[${i}].${k}`).forEach((id, j) => str(id, `partitions[${i}].${k}[${j}]`));
    if (part['handover'] !== undefined) {
      const h = obj(part['handover'], `partitions[${i}].handover`);
      str(h['from'], `partitions[${i}].handover.from`);
      int(h['epoch'], `partitions[${i}].handover.epoch`);
    }
  });
  arr(s['plans'], 'plans').forEach((p, i) => {
    const plan = obj(p, `plans[${i}]`);
    for (const k of ['id', 'reason', 'state']) str(plan[k], `plans[${i}].${k}`);
    if (plan['node'] !== null) str(plan['node'], `plans[${i}].node`);
    int(plan['created'], `plans[${i}].created`);
    int(plan['notBefore'], `plans[${i}].notBefore`);
    arr(plan['moves'], `plans[${i}].moves`).forEach((m, j) => {
      const move = obj(m, `plans[${i}].moves[${j}]`);
      const at = `plans[${i}].moves[${j}]`;
      int(move['partition'], `${at}.partition`);
      if (move['source'] !== null) str(move['source'], `${at}.source`);
      for (const k of ['target', 'state']) str(move[k], `${at}.${k}`);
      for (const k of ['bytesDone', 'bytesTotal']) int(move[k], `${at}.${k}`);
    });
  });
  for (const k of ['usedTokens', 'revoked']) for (const [id, t] of Object.entries(obj(s[k], k))) int(t, `${k}.${id}`);
  for (const k of ['version', 'clock', 'nextPlan']) int(s[k], k);
  s['counters'] = countersOfSnapshot(s['counters']);
  return s as unknown as MetaState;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`meta snapshot: ${what} must be an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`meta snapshot: ${what} must be an array`);
  return v;
}

function str(v: unknown, what: string): void {
  if (typeof v !== 'string') throw new Error(`meta snapshot: ${what} must be a string`);
}

function int(v: unknown, what: string): void {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`meta snapshot: ${what} must be a non-negative integer`);
}

function num(v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`meta snapshot: ${what} must be a finite number`);
}
