// The commands of the meta log: a discriminated union of plain JSON objects, and the
// validator that turns whatever was decoded from a log entry into one of them (or a
// deterministic 'invalid' rejection). Semantics live in state.ts and docs/meta-state.md.

import { asFields, Reader } from './fields.js';
import { readCounterAdd } from './counters.js';
import { reject } from './errors.js';

export interface MemberInfo {
  readonly id: string;
  readonly url: string;
}

/** The node states a command may set; `joining` is only ever entered by node-join. */
export type TargetNodeState = 'up' | 'suspect' | 'down' | 'draining' | 'removed';
const TARGET_STATES: readonly TargetNodeState[] = ['up', 'suspect', 'down', 'draining', 'removed'];

export interface MoveRef {
  readonly planId: string;
  readonly partition: number;
  readonly target: string;
}

export type Command =
  | {
      readonly type: 'init-cluster';
      readonly clusterId: string;
      readonly partitions: number;
      readonly replication: number;
      readonly minInsync?: number;
      readonly repairGraceMs?: number;
      readonly members?: readonly MemberInfo[];
    }
  | { readonly type: 'meta-members'; readonly members: readonly MemberInfo[] }
  | {
      readonly type: 'node-join';
      readonly nodeId: string;
      readonly url: string;
      readonly publicKey: string;
      readonly zone?: string;
      readonly capacity: number;
      /** The id of the join token the gateway verified; it may be used only once. */
      readonly tokenId: string;
      readonly tokenExpiresAt: number;
    }
  | { readonly type: 'node-heartbeat'; readonly nodeId: string; readonly url?: string }
  | { readonly type: 'node-state'; readonly nodeId: string; readonly state: TargetNodeState; readonly force?: boolean }
  | (MoveRef & { readonly type: 'move-progress'; readonly bytesDone: number; readonly bytesTotal: number })
  | (MoveRef & { readonly type: 'move-done'; readonly bytesTotal?: number })
  | (MoveRef & { readonly type: 'move-failed'; readonly reason?: string })
  | { readonly type: 'plan-cancel'; readonly planId: string }
  | { readonly type: 'rebalance' }
  | {
      readonly type: 'partition-reconfigure';
      readonly partition: number;
      /** The epoch the requester saw; anything else means the request is stale. */
      readonly expectedEpoch: number;
      /** Replicas to drop from the in-sync set. */
      readonly remove?: readonly string[];
      /** The replica to appoint as primary. */
      readonly primary?: string;
      /**
       * Sent by the current primary itself: it stopped taking writes and gave up its read
       * lease before asking (a graceful handover). Meta records it in the new epoch.
       */
      readonly leaseReleased?: boolean;
    }
  | { readonly type: 'revoke'; readonly credentialId: string; readonly expiresAt: number }
  | { readonly type: 'settings'; readonly minInsync?: number; readonly repairGraceMs?: number }
  /** Adds delta (>= 1) to a cluster counter; the result carries the new value (counters.ts). */
  | { readonly type: 'counter-add'; readonly name: string; readonly delta: number };

export type CommandType = Command['type'];

const MAX_PARTITIONS = 65536;
const MAX_REPLICATION = 9;
const MAX_MEMBERS = 9;
const DAY_MS = 86_400_000;

/** Checks a decoded log entry; throws CommandRejected('invalid') with the reason. */
export function validateCommand(input: unknown): Command {
  const fields = asFields(input, 'command');
  const type = fields['type'];
  if (typeof type !== 'string') reject('invalid', 'command: field "type" must be a string');
  const r = new Reader(type, fields);
  switch (type) {
    case 'init-cluster': {
      r.only(['type', 'clusterId', 'partitions', 'replication', 'minInsync', 'repairGraceMs', 'members']);
      const replication = r.int('replication', 1, MAX_REPLICATION);
      return {
        type,
        clusterId: r.id('clusterId'),
        partitions: r.int('partitions', 1, MAX_PARTITIONS),
        replication,
        ...opt('minInsync', r.optionalInt('minInsync', 1, replication)),
        ...opt('repairGraceMs', r.optionalInt('repairGraceMs', 0, DAY_MS)),
        ...opt('members', r.has('members') ? members(r) : undefined),
      };
    }
    case 'meta-members':
      r.only(['type', 'members']);
      return { type, members: members(r) };
    case 'node-join':
      r.only(['type', 'nodeId', 'url', 'publicKey', 'zone', 'capacity', 'tokenId', 'tokenExpiresAt']);
      return {
        type,
        nodeId: r.id('nodeId'),
        url: r.url('url'),
        publicKey: r.printable('publicKey', 512),
        ...opt('zone', r.optionalId('zone')),
        capacity: r.positive('capacity'),
        tokenId: r.id('tokenId'),
        tokenExpiresAt: r.int('tokenExpiresAt', 0),
      };
    case 'node-heartbeat':
      r.only(['type', 'nodeId', 'url']);
      return { type, nodeId: r.id('nodeId'), ...opt('url', r.has('url') ? r.url('url') : undefined) };
    case 'node-state':
      r.only(['type', 'nodeId', 'state', 'force']);
      return { type, nodeId: r.id('nodeId'), state: r.oneOf('state', TARGET_STATES), ...opt('force', r.bool('force')) };
    case 'move-progress': {
      r.only(['type', 'planId', 'partition', 'target', 'bytesDone', 'bytesTotal']);
      const bytesTotal = r.int('bytesTotal', 0);
      return { type, ...moveRef(r), bytesDone: r.int('bytesDone', 0, bytesTotal), bytesTotal };
    }
    case 'move-done':
      r.only(['type', 'planId', 'partition', 'target', 'bytesTotal']);
      return { type, ...moveRef(r), ...opt('bytesTotal', r.optionalInt('bytesTotal', 0)) };
    case 'move-failed':
      r.only(['type', 'planId', 'partition', 'target', 'reason']);
      return { type, ...moveRef(r), ...opt('reason', r.has('reason') ? r.text('reason', 256) : undefined) };
    case 'plan-cancel':
      r.only(['type', 'planId']);
      return { type, planId: r.id('planId') };
    case 'rebalance':
      r.only(['type']);
      return { type };
    case 'partition-reconfigure': {
      r.only(['type', 'partition', 'expectedEpoch', 'remove', 'primary', 'leaseReleased']);
      const remove = r.has('remove') ? r.idList('remove', MAX_REPLICATION) : undefined;
      const primary = r.optionalId('primary');
      if ((remove === undefined || remove.length === 0) && primary === undefined) {
        r.fail('remove', 'or "primary" must be given: a reconfiguration has to change something');
      }
      const leaseReleased = r.bool('leaseReleased');
      if (leaseReleased === true && primary === undefined) r.fail('leaseReleased', 'needs "primary": only a handover to a named successor releases the lease');
      return {
        type,
        partition: r.int('partition', 0, MAX_PARTITIONS - 1),
        expectedEpoch: r.int('expectedEpoch', 0),
        ...opt('remove', remove),
        ...opt('primary', primary),
        ...opt('leaseReleased', leaseReleased === true ? true : undefined),
      };
    }
    case 'revoke':
      r.only(['type', 'credentialId', 'expiresAt']);
      return { type, credentialId: r.id('credentialId'), expiresAt: r.int('expiresAt', 0) };
    case 'settings': {
      r.only(['type', 'minInsync', 'repairGraceMs']);
      const minInsync = r.optionalInt('minInsync', 1, MAX_REPLICATION);
      const repairGraceMs = r.optionalInt('repairGraceMs', 0, DAY_MS);
      if (minInsync === undefined && repairGraceMs === undefined) r.fail('minInsync', 'or "repairGraceMs" must be given');
      return { type, ...opt('minInsync', minInsync), ...opt('repairGraceMs', repairGraceMs) };
    }
    case 'counter-add':
      return { type, ...readCounterAdd(r) };
    default:
      return reject('invalid', `command: unknown type "${type}"`);
  }
}

function moveRef(r: Reader): MoveRef {
  return { planId: r.id('planId'), partition: r.int('partition', 0, MAX_PARTITIONS - 1), target: r.id('target') };
}

function members(r: Reader): MemberInfo[] {
  const list = r.list('members', MAX_MEMBERS);
  const out = list.map((_, i) => {
    const m = r.nested('members', i);
    m.only(['id', 'url']);
    return { id: m.id('id'), url: m.url('url') };
  });
  if (new Set(out.map((m) => m.id)).size !== out.length) r.fail('members', 'lists a member id twice');
  return out;
}

/** Spreads `{[key]: value}` only when value is defined, keeping commands free of undefined. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
