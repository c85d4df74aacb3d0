// Cluster counters through the gateway: an add answers the new value, a retry with the
// same client id and sequence answers the same value and adds nothing, an older sequence
// or a sequence reused for another add is refused, callers with different credentials
// cannot touch each other's sessions, reads are linearizable; the client library and
// `opera counter add|get` on top.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CounterClient } from '../../src/client/counters.js';
import { GatewayError } from '../../src/client/gateway-http.js';
import { runOpera } from '../helpers/processes.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';
import { call, clusterSecrets, startTestGateway, token } from './helpers.js';

t.test('counters: exactly-once adds, refusals, reads, the client and the CLI', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const secrets = await clusterSecrets(cluster);
  const gw = await startTestGateway(t, cluster, secrets);
  const alice = token(secrets, 'client', 'alice');
  const bob = token(secrets, 'client', 'bob');
  const add = (tok: string, name: string, json: object) => call<{ name: string; value: number; delta: number; seq: number }>(gw.url, `/v1/counters/${name}`, { token: tok, json });

  let r = await add(alice, 'catalogue', { clientId: 'a1', seq: 1 });
  t.equal(r.status, 200);
  t.same(r.body, { name: 'catalogue', value: 1, delta: 1, clientId: 'a1', seq: 1 }, 'the first add answers 1');
  r = await add(alice, 'catalogue', { clientId: 'a1', seq: 1 });
  t.same(r.body, { name: 'catalogue', value: 1, delta: 1, clientId: 'a1', seq: 1 }, 'a retry of seq 1 answers the same value');
  r = await add(alice, 'catalogue', { clientId: 'a1', seq: 2, delta: 10 });
  t.equal(r.body.value, 11, 'seq 2 adds 10');
  // Bob's session of the same client id is his own: his seq 1 is a new add, not a retry of Alice's.
  r = await add(bob, 'catalogue', { clientId: 'a1', seq: 1 });
  t.equal(r.body.value, 12, 'another credential with the same client id has its own session');
  r = await add(alice, 'catalogue', { clientId: 'a1', seq: 1 });
  t.equal(r.status, 409);
  t.equal(r.body.error?.code, 'stale-sequence', 'a sequence older than the last is refused');
  r = await add(alice, 'other', { clientId: 'a1', seq: 2, delta: 10 });
  t.equal(r.body.error?.code, 'sequence-reused', 'the last sequence sent for another counter is refused, not answered with that counter');
  r = await add(alice, 'catalogue', { clientId: 'a1', seq: 2, delta: 3 });
  t.equal(r.body.error?.code, 'sequence-reused', 'and for another delta');

  let g = await call<{ name: string; value: number }>(gw.url, '/v1/counters/catalogue', { token: bob });
  t.same(g.body, { name: 'catalogue', value: 12 }, 'a read sees every add');
  g = await call(gw.url, '/v1/counters/never-used', { token: alice });
  t.same(g.body, { name: 'never-used', value: 0 }, 'an unknown counter reads 0');

  for (const [name, json, code] of [
    ['bad%20name', { clientId: 'a', seq: 1 }, 'invalid-counter-name'],
    ['x'.repeat(65), { clientId: 'a', seq: 1 }, 'invalid-counter-name'],
    ['c', { clientId: '', seq: 1 }, 'bad-request'],
    ['c', { clientId: 'a b', seq: 1 }, 'bad-request'],
    ['c', { clientId: 'a', seq: 0 }, 'bad-request'],
    ['c', { clientId: 'a', seq: 1.5 }, 'bad-request'],
    ['c', { clientId: 'a', seq: 1, delta: 0 }, 'bad-request'],
    ['c', { clientId: 'a', seq: 1, delta: 1_000_001 }, 'bad-request'],
    ['c', { clientId: 'a', seq: 1, extra: 1 }, 'bad-request'],
    ['c', { seq: 1 }, 'bad-request'],
  ] as const) {
    r = await add(alice, name, json);
    t.equal(r.status, 400, `${name.slice(0, 12)} ${JSON.stringify(json)}: 400`);
    t.equal(r.body.error?.code, code);
  }
  t.equal((await call(gw.url, '/v1/counters/c', { token: token(secrets, 'node', 'n1'), json: { clientId: 'a', seq: 1 } })).status, 403, 'a node credential may not add');
  t.equal((await call(gw.url, '/v1/counters/c', { json: { clientId: 'a', seq: 1 } })).status, 401, 'no credential, no add');
  t.equal((await call(gw.url, '/v1/counters/catalogue', { token: alice })).body['value'], 12, 'refused adds changed nothing');

  // The client library: one add at a time, each with the next sequence.
  const access = { gateway: gw.url, token: alice };
  const client = new CounterClient(access);
  const values = await Promise.all([client.add('lib'), client.add('lib'), client.add('lib', 5)]);
  t.same(values.map((v) => v.value), [1, 2, 7], 'adds of one client run in order');
  t.same(values.map((v) => v.seq), [1, 2, 3]);
  t.same(await client.addWithSeq('lib', 3, 5).then((v) => v.value), 7, 'a resumed add with its sequence answers its value');
  t.equal(await client.get('lib'), 7);
  const refused = await client.addWithSeq('lib', 1).catch((err: unknown) => err);
  t.ok(refused instanceof GatewayError && refused.code === 'stale-sequence', 'a refusal is final, not retried');
  const resumed = new CounterClient(access, { clientId: client.clientId, lastSeq: client.lastSeq });
  t.equal((await resumed.add('lib')).value, 8, 'a session resumed with its last sequence continues');

  // The CLI.
  const home = await mkdtemp(join(tmpdir(), 'opera-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const env = { OPERA_GATEWAY: gw.url, OPERA_TOKEN: alice, OPERA_HOME: home };
  let cli = await runOpera(['counter', 'add', 'cli'], env);
  t.equal(cli.code, 0, cli.stderr);
  t.equal(cli.stdout.trim(), '1', 'opera counter add prints the new value');
  cli = await runOpera(['counter', 'add', 'cli', '--delta', '4', '--json'], env);
  const json = JSON.parse(cli.stdout) as { value: number; clientId: string; seq: number };
  t.match(json, { name: 'cli', value: 5, delta: 4, seq: 1 });
  cli = await runOpera(['counter', 'add', 'cli', '--delta', '4', '--client-id', json.clientId, '--seq', '1'], env);
  t.equal(cli.stdout.trim(), '5', 'resuming an add with its client id and sequence adds nothing');
  cli = await runOpera(['counter', 'get', 'cli'], env);
  t.equal(cli.stdout.trim(), '5');
  cli = await runOpera(['counter', 'add', 'bad name'], env);
  t.equal(cli.code, 2, 'a bad name is a usage error');
  cli = await runOpera(['counter', 'add', 'cli', '--seq', '3'], env);
  t.equal(cli.code, 2, '--seq needs --client-id');
});
