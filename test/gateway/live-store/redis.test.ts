import { Redis } from 'ioredis';
import t from 'tap';
import {
  LiveStoreUnavailableError,
  RedisLiveStore,
  type LiveStore,
} from '../../../src/gateway/live-store/index.js';
import { startRedis } from '../../helpers/redis-server.js';
import { liveStoreContract } from './contract.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw client to look at what the store wrote. */
async function rawClient(t: Tap, url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  t.teardown(() => client.disconnect());
  return client;
}
type Tap = Parameters<typeof liveStoreContract>[0];

t.test('Redis LiveStore contract', async (t) => {
  // No redis-server is a failure, not a skip: CI installs it.
  const redis = await startRedis(t);
  const prefixes = new WeakMap<LiveStore, string>();
  let namespaces = 0;
  const connect = async (prefix: string): Promise<LiveStore> => {
    const store = await RedisLiveStore.connect(redis.url, { prefix });
    prefixes.set(store, prefix);
    return store;
  };
  liveStoreContract(t, {
    open: () => connect(`opera-test-${++namespaces}:`),
    openPeer: (store) => connect(prefixes.get(store) ?? 'unknown:'),
    elapse: sleep,
    now: Date.now,
  });
});

t.test('keys are namespaced under the prefix', async (t) => {
  const redis = await startRedis(t);
  const raw = await rawClient(t, redis.url);
  const plain = await RedisLiveStore.connect(redis.url);
  const other = await RedisLiveStore.connect(redis.url, { prefix: 'elsewhere:' });
  t.teardown(() => plain.close());
  t.teardown(() => other.close());

  t.equal(plain.prefix, 'opera:');
  await plain.putSession('s1', 'v', 60_000);
  await plain.revoke('t1', Date.now() + 60_000);
  await plain.consumeRate('r1', { capacity: 5, refillPerSec: 1 });
  await plain.claimNonce('n1', 60_000);
  await plain.reportObservation('sen', 'node-1', { state: 'up', atMs: 1 }, 60_000);
  await plain.incr('c1', 60_000);
  t.same((await raw.keys('*')).sort(), [
    'opera:counter:c1',
    'opera:nonce:n1',
    'opera:obs:node-1',
    'opera:rate:r1',
    'opera:revoked:t1',
    'opera:session:s1',
  ]);
  for (const key of await raw.keys('*')) {
    const ttl = await raw.pttl(key);
    t.ok(ttl > 0 && ttl <= 60_000, `${key} expires (pttl ${ttl})`);
  }
  t.equal(await other.getSession('s1'), undefined, 'another prefix is another store');
  t.equal(await other.claimNonce('n1', 60_000), true);
  await t.rejects(RedisLiveStore.connect(redis.url, { prefix: '' }), {
    name: 'LiveStoreInputError',
    message: /prefix must not be empty/,
  });
});

t.test('a counter window is not extended by later increments', async (t) => {
  const redis = await startRedis(t);
  const raw = await rawClient(t, redis.url);
  const store = await RedisLiveStore.connect(redis.url);
  t.teardown(() => store.close());
  await store.incr('c', 60_000);
  await store.incr('c', 3_600_000);
  const ttl = await raw.pttl('opera:counter:c');
  t.ok(ttl > 0 && ttl <= 60_000, `pttl ${ttl} is still that of the first increment`);
});

t.test('when Redis is down every call fails fast as unavailable', async (t) => {
  const redis = await startRedis(t);
  const errors: Error[] = [];
  const store = await RedisLiveStore.connect(redis.url, { onError: (err) => errors.push(err) });
  t.teardown(() => store.close());
  t.equal(await store.claimNonce('before', 60_000), true);
  await redis.stop();
  const unavailable = { name: 'LiveStoreUnavailableError', code: 'LIVE_STORE_UNAVAILABLE' };
  const started = Date.now();
  await t.rejects(store.claimNonce('after', 60_000), unavailable, 'nonce check fails closed');
  await t.rejects(store.consumeRate('k', { capacity: 5, refillPerSec: 1 }), unavailable, 'rate check fails closed');
  await t.rejects(store.isRevoked('tok'), unavailable);
  await t.rejects(store.observations('node'), unavailable);
  t.ok(Date.now() - started < 5000, 'no call hangs on a dead Redis');
});

t.test('connecting to no Redis fails with a clear error that hides the password', async (t) => {
  const redis = await startRedis(t);
  await redis.stop(); // a port where nothing listens now
  const error = await t.rejects(
    RedisLiveStore.connect(`redis://:hunter2@127.0.0.1:${redis.port}`, { connectTimeoutMs: 1000 }),
    { name: 'LiveStoreUnavailableError', message: /cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/ },
  );
  t.ok(error instanceof LiveStoreUnavailableError);
  t.notMatch(String((error as Error).message), /hunter2/);
});
