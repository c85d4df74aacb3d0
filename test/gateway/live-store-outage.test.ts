// A gateway whose Redis LiveStore goes away fails closed: every authenticated request is
// answered 503 (retryable), never let through unchecked; /healthz stays up.
import t from 'tap';
import { generateClusterSecrets } from '../../src/crypto/secrets.js';
import { eventually } from '../helpers/processes.js';
import { startRedis } from '../helpers/redis-server.js';
import { call, startTestGateway, token } from './helpers.js';

t.test('Redis down: 503, not a pass', async (t) => {
  const redis = await startRedis(t);
  const secrets = generateClusterSecrets();
  const gw = await startTestGateway(t, null, secrets, { liveStoreUrl: redis.url, metaEndpoints: ['http://127.0.0.1:1'] });
  const client = token(secrets, 'client', 'c1');

  t.equal((await call(gw.url, '/v1/whoami', { token: client })).status, 200, 'with Redis: 200');
  await redis.stop();
  const r = await eventually('requests to fail closed', async () => {
    const a = await call(gw.url, '/v1/whoami', { token: client });
    return a.status === 503 ? a : undefined;
  }, 10_000);
  t.equal(r.body.error?.code, 'live-store-unavailable', 'the LiveStore is named');
  t.equal(r.headers.get('retry-after'), '1', 'retryable');
  const metrics = await call(gw.url, '/metrics', { token: token(secrets, 'admin') });
  t.equal(metrics.status, 503, 'every authenticated route fails closed');
  t.equal((await call(gw.url, '/healthz')).status, 200, '/healthz stays up');
  const ready = await gw.context.readiness();
  t.notOk(ready.ready, 'not ready');
  t.ok(ready.reasons.includes('the LiveStore cannot be reached'), 'and says why');
  t.ok(gw.context.metrics.liveStoreErrors.value({ op: 'isRevoked' }) > 0, 'LiveStore errors are counted');
});
