// The meta member's HTTP API (Koa): commands (exactly once, through client sessions),
// linearizable reads (ReadIndex), a long-poll watch of the partition map, membership,
// status and metrics. A follower forwards to the leader; no quorum means 503.
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import { allow, type AuthOptions } from '../common/auth.js';
import { ApiError, jsonErrors, readJson } from '../common/http-errors.js';
import type { Role } from '../crypto/tokens.js';
import { counterValue, isCounterName } from './counters.js';
import { checkHostPort, checkMemberId } from './member-files.js';
import { MetaMember, NotLeaderError, UnavailableError } from './member.js';
import { renderStateMetrics } from './state-metrics.js';
import type { Command } from './state.js';

const FORWARDED = 'x-opera-forwarded';
const INTERNAL: readonly Role[] = ['admin', 'meta', 'gateway', 'node', 'sentinel'];

/** Which command types each role may submit. */
const COMMANDS_BY_ROLE: Partial<Record<Role, readonly Command['type'][] | 'all'>> = {
  admin: 'all',
  meta: 'all',
  gateway: 'all',
  node: ['node-heartbeat', 'move-progress', 'move-done', 'move-failed', 'partition-reconfigure'],
  sentinel: ['node-state', 'node-heartbeat'],
};

export function metaApi(member: MetaMember, log: Logger): Koa {
  const app = new Koa();
  const auth: AuthOptions = {
    authorityPublicKey: member.secrets.authority.publicKey,
    isRevoked: (id) => Object.hasOwn(member.machine.state.revoked, id),
  };
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true, id: member.id };
  });

  router.get('/metrics', allow(auth, INTERNAL), (ctx) => {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = member.metrics.render({ isLeader: member.isLeader(), member: member.id }) + renderStateMetrics(member.machine.state, member.id);
  });

  router.get('/v1/meta/status', allow(auth, INTERNAL), (ctx) => {
    ctx.body = member.status();
  });

  router.post('/v1/meta/commands', allow(auth, INTERNAL), async (ctx) => {
    const body = await readJson(ctx);
    const { clientId, seq, command } = parseCommandRequest(body);
    const role = (ctx.state['claims'] as { role: Role }).role;
    const allowed = COMMANDS_BY_ROLE[role];
    if (allowed !== 'all' && !allowed?.includes(command.type)) {
      throw new ApiError(403, 'forbidden', `role "${role}" may not submit "${command.type}" commands`);
    }
    if (!member.isLeader()) return forward(ctx, member, body);
    const result = await member.propose(command, clientId, seq).catch(rethrow);
    ctx.body = { result };
  });

  router.get('/v1/meta/state', allow(auth, INTERNAL), async (ctx) => {
    if (!(await readHere(ctx, member))) return;
    ctx.body = { applied: member.machine.applied, state: member.machine.state };
  });

  // One cluster counter (counters.ts): linearizable by default, like the state.
  router.get('/v1/meta/counters/:name', allow(auth, INTERNAL), async (ctx) => {
    const name = ctx.params['name'];
    if (!isCounterName(name)) throw new ApiError(400, 'bad-request', 'a counter name is 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit');
    if (!(await readHere(ctx, member))) return;
    ctx.body = { name, value: counterValue(member.machine.state.counters, name), applied: member.machine.applied };
  });

  router.get('/v1/meta/watch', allow(auth, INTERNAL), async (ctx) => {
    const after = Number(ctx.query['after'] ?? -1);
    const timeoutMs = Math.min(Math.max(Number(ctx.query['timeoutMs'] ?? 30_000), 0), 120_000);
    if (!Number.isSafeInteger(after) || Number.isNaN(timeoutMs)) throw new ApiError(400, 'bad-request', 'after must be an integer version, timeoutMs a number');
    if (!member.isLeader()) return forward(ctx, member, undefined);
    await member.readBarrier().catch(rethrow);
    if (member.machine.state.version <= after) await waitForVersion(member, after, timeoutMs);
    const s = member.machine.state;
    ctx.body = { version: s.version, changed: s.version > after, settings: s.settings, nodes: s.nodes, partitions: s.partitions };
  });

  router.get('/v1/meta/backup', allow(auth, ['admin']), async (ctx) => {
    if (!member.isLeader()) return forward(ctx, member, undefined);
    await member.readBarrier().catch(rethrow);
    ctx.type = 'application/json';
    ctx.body = Buffer.from(member.machine.snapshot());
  });

  router.post('/v1/meta/members', allow(auth, ['admin']), async (ctx) => {
    const body = await readJson(ctx);
    if (!member.isLeader()) return forward(ctx, member, body);
    const req = body as { op?: unknown; id?: unknown; api?: unknown; raft?: unknown };
    if (typeof req.id !== 'string') throw new ApiError(400, 'bad-request', 'id must be a member id');
    try {
      checkMemberId(req.id);
      if (req.op === 'add') {
        if (typeof req.api !== 'string' || typeof req.raft !== 'string') throw new Error('add needs "api" and "raft" as HOST:PORT');
        checkHostPort(req.api, 'api');
        checkHostPort(req.raft, 'raft');
      }
    } catch (err) {
      throw new ApiError(400, 'bad-request', (err as Error).message);
    }
    if (req.op === 'add') await member.addLearner(req.id, { api: req.api as string, raft: req.raft as string }).catch(rethrow);
    else if (req.op === 'remove') await member.changeMembership({ op: 'remove', id: req.id }).catch(rethrow);
    else if (req.op === 'transfer') {
      try {
        member.transferLeadership(req.id);
      } catch (err) {
        rethrow(err);
      }
    } else throw new ApiError(400, 'bad-request', 'op must be "add", "remove" or "transfer"');
    ctx.body = { ok: true };
  });

  app.use(jsonErrors((err, ctx) => log.error({ err, path: ctx.path }, 'meta api failure')));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function parseCommandRequest(body: unknown): { clientId: string; seq: number; command: Command } {
  const b = body as { clientId?: unknown; seq?: unknown; command?: unknown } | null;
  if (!b || typeof b !== 'object') throw new ApiError(400, 'bad-request', 'the body must be {"clientId", "seq", "command"}');
  if (typeof b.clientId !== 'string' || b.clientId.length < 1 || b.clientId.length > 128) {
    throw new ApiError(400, 'bad-request', 'clientId must be a string of 1..128 characters');
  }
  if (!Number.isSafeInteger(b.seq) || (b.seq as number) < 1) throw new ApiError(400, 'bad-request', 'seq must be a positive integer');
  const command = b.command as { type?: unknown } | null;
  if (!command || typeof command !== 'object' || typeof command.type !== 'string') {
    throw new ApiError(400, 'bad-request', 'command must be an object with a "type"');
  }
  return { clientId: b.clientId, seq: b.seq as number, command: command as Command };
}

function rethrow(err: unknown): never {
  if (err instanceof NotLeaderError) throw noLeader(err);
  if (err instanceof UnavailableError) throw new ApiError(503, 'unavailable', err.message, { 'Retry-After': '1' });
  throw err;
}

function noLeader(err: NotLeaderError): ApiError {
  return new ApiError(503, 'no-leader', err.message, { 'Retry-After': '1', ...(err.leaderApi ? { 'X-Opera-Leader': `http://${err.leaderApi}` } : {}) });
}

/** One hop to the leader, carrying the caller's credential; never a second hop. */
/**
 * A read at the `?consistency=` the caller asked for (linearizable by default: on the
 * leader, after a read barrier; local: this member's applied state). False when the
 * request was forwarded to the leader and is answered already.
 */
async function readHere(ctx: Context, member: MetaMember): Promise<boolean> {
  const consistency = ctx.query['consistency'] ?? 'linearizable';
  if (consistency !== 'linearizable' && consistency !== 'local') {
    throw new ApiError(400, 'bad-request', 'consistency must be "linearizable" or "local"');
  }
  if (consistency === 'linearizable') {
    if (!member.isLeader()) {
      await forward(ctx, member, undefined);
      return false;
    }
    await member.readBarrier().catch(rethrow);
  }
  return true;
}

async function forward(ctx: Context, member: MetaMember, body: unknown): Promise<void> {
  const status = member.status();
  const leaderApi = member.addressOf(status.leader)?.api ?? null;
  if (ctx.get(FORWARDED) || status.leader === null || leaderApi === null || status.leader === member.id) {
    throw noLeader(new NotLeaderError(status.leader, leaderApi));
  }
  const url = `http://${leaderApi}${ctx.originalUrl}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: ctx.method,
      headers: {
        authorization: ctx.get('authorization'),
        [FORWARDED]: member.id,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(130_000),
    });
  } catch (err) {
    throw new ApiError(503, 'no-leader', `the leader ${status.leader} did not answer: ${(err as Error).message}`, { 'Retry-After': '1' });
  }
  ctx.status = res.status;
  const retry = res.headers.get('retry-after');
  if (retry) ctx.set('Retry-After', retry);
  ctx.set('X-Opera-Leader', `http://${leaderApi}`);
  ctx.body = await res.json().catch(() => ({ error: { code: 'bad-gateway', message: 'the leader sent a non-JSON answer' } }));
}

function waitForVersion(member: MetaMember, after: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      member.off('applied', check);
      resolve();
    };
    const check = (): void => {
      if (member.machine.state.version > after || !member.isLeader()) done();
    };
    const timer = setTimeout(done, timeoutMs);
    member.on('applied', check);
  });
}
