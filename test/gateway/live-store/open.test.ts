import t from 'tap';
import {
  MemoryLiveStore,
  RedisLiveStore,
  openLiveStore,
} from '../../../src/gateway/live-store/index.js';
import { startRedis } from '../../helpers/redis-server.js';

t.test('no URL, or memory:, opens the in-memory store', async (t) => {
  for (const url of [undefined, '', 'memory:']) {
    const store = await openLiveStore(url);
    t.ok(store instanceof MemoryLiveStore, `url ${String(url)}`);
    await store.close();
  }
});

t.test('the in-memory store takes the injected clock', async (t) => {
  let now = 1000;
  const store = await openLiveStore(undefined, { now: () => now });
  t.teardown(() => store.close());
  await store.putSession('s', 'v', 10);
  now += 10;
  t.equal(await store.getSession('s'), undefined);
});

t.test('redis:// opens a Redis store with the given prefix', async (t) => {
  const redis = await startRedis(t);
  const store = await openLiveStore(redis.url, { prefix: 'gw:' });
  t.teardown(() => store.close());
  t.ok(store instanceof RedisLiveStore);
  t.equal((store as RedisLiveStore).prefix, 'gw:');
  t.equal(await store.claimNonce('n', 10_000), true);
});

t.test('other URLs are refused without echoing secrets', async (t) => {
  await t.rejects(openLiveStore('http://user:pw@cache:8080'), {
    name: 'LiveStoreInputError',
    message: 'unsupported LiveStore URL http://user:***@cache:8080/: expected redis://, rediss:// or memory:',
  });
  await t.rejects(openLiveStore('localhost:6379'), {
    name: 'LiveStoreInputError',
    message: /expected redis:\/\//,
  });
  await t.rejects(openLiveStore('not a url'), {
    name: 'LiveStoreInputError',
    message: /not a valid URL/,
  });
});
