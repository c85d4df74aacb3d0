// Cluster counters for clients (src/meta/counters.ts, docs/gateway.md): POST adds to a
// counter exactly once per (client id, sequence) the caller chose, GET reads one
// linearizably. The gateway passes the caller's sequence to meta as it is and its client
// id inside a namespace of the caller's credential (role and subject), so no caller can
// touch another's session, or the sessions of the gateways, nodes and sentinels.
import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { COUNTER_CLIENT_ID, COUNTER_NAME, MAX_COUNTER_DELTA } from '../../meta/counters.js';
import { claimsOf, guard } from '../auth.js';
import { readJsonObject } from '../body.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';

const ROLES = ['client', 'admin'] as const;
const NAME_RULE = 'a counter name is 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';

/** The meta session of a caller's client id: one namespace per credential subject and role. */
export function counterSession(role: string, sub: string, clientId: string): string {
  const owner = createHash('sha256').update(`${role}\0${sub}`).digest('hex').slice(0, 16);
  return `counter:${owner}:${clientId}`;
}

function counterName(ctx: Context): string {
  const name = ctx.params['name'];
  if (typeof name !== 'string' || !COUNTER_NAME.test(name)) throw new ApiError(400, 'invalid-counter-name', NAME_RULE);
  return name;
}

export const registerCounterRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.post('/v1/counters/:name', guard(g, ROLES), async (ctx: Context) => {
    const name = counterName(ctx);
    const f = (await readJsonObject(ctx, g.limits.jsonBodyBytes)).only(['clientId', 'seq', 'delta']);
    const clientId = f.string('clientId', COUNTER_CLIENT_ID, 'must be 1-64 characters from A-Z a-z 0-9 . _ : -, starting with a letter or digit');
    const seq = f.integer('seq', 1, Number.MAX_SAFE_INTEGER);
    const delta = f.has('delta') ? f.integer('delta', 1, MAX_COUNTER_DELTA) : 1;
    const claims = claimsOf(ctx);
    const result = await g.meta.client().commandAs(counterSession(claims.role, claims.sub, clientId), seq, { type: 'counter-add', name, delta });
    if (!result.ok) {
      if (result.code === 'stale-sequence') throw new ApiError(409, 'stale-sequence', `sequence ${seq} is older than the last one client "${clientId}" used; its answer is gone`);
      if (result.code === 'limit-exceeded') throw new ApiError(409, 'limit-exceeded', result.message);
      if (result.code === 'not-initialized') throw new ApiError(503, 'not-initialized', result.message, { 'Retry-After': '1' });
      throw new ApiError(400, result.code, result.message);
    }
    // The session answers a repeated sequence with what it recorded the first time: if
    // that was another add, the caller reused a sequence for a different command.
    const counter = result.counter;
    if (counter === undefined || counter.name !== name || counter.delta !== delta) {
      const was = counter === undefined ? 'was used for another command' : `already added ${counter.delta} to "${counter.name}"`;
      throw new ApiError(409, 'sequence-reused', `sequence ${seq} of client "${clientId}" ${was}`);
    }
    ctx.body = { name, value: counter.value, delta, clientId, seq };
  });

  router.get('/v1/counters/:name', guard(g, ROLES), async (ctx: Context) => {
    const name = counterName(ctx);
    const { value } = await g.meta.client().counter(name, 'linearizable');
    ctx.body = { name, value };
  });
};
