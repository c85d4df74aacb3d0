// `opera gateway start` as a real process next to a bootstrap directory, and the CLI
// around it: `opera token create|revoke`, `opera login` (which opens a session, renewed
// by later commands) and `opera logout`, with credentials from flags, the environment
// and the credentials file.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import { verifyToken } from '../../src/crypto/tokens.js';
import { freePort } from '../helpers/ports.js';
import { eventually, runOpera, spawnOpera } from '../helpers/processes.js';
import { startMetaCluster } from '../meta/cluster-helpers.js';

t.test('gateway process and token CLI', async (t) => {
  const cluster = await startMetaCluster(t, 1);
  const home = await mkdtemp(join(tmpdir(), 'opera-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const secrets = await loadClusterSecrets(join(cluster.dir, 'secrets.json'));
  const admin = cluster.token;
  const url = `http://127.0.0.1:${await freePort()}`;
  // No credentials from the environment of whoever runs the tests.
  const clean = { OPERA_GATEWAY: '', OPERA_TOKEN: '', OPERA_HOME: home };

  const usage = await runOpera(['gateway', 'start', '--listen', '127.0.0.1:1'], { OPERA_META: '' });
  t.equal(usage.code, 2, 'gateway start without --meta: usage error');
  t.match(usage.stderr, /--meta/);

  const gw = spawnOpera(t, 'gateway', ['gateway', 'start', '--meta', cluster.dir, '--listen', url.slice('http://'.length), '--session-ttl', '10m'], {
    OPERA_GATEWAY_WATCH_MS: '500', OPERA_LOG_LEVEL: 'warn',
  });
  await eventually('the gateway to be ready', async () => {
    const r = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${admin}` } }).catch(() => null);
    return r?.status === 200 ? true : undefined;
  }, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${gw.output()}`);
  });
  t.pass('opera gateway start serves, with secrets and meta from the bootstrap directory');

  let r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h', '--sub', 'alice', '--gateway', url, '--token', admin], clean);
  t.equal(r.code, 0, 'token create with flags');
  const minted = r.stdout.trim();
  const claims = verifyToken(secrets.authority.publicKey, minted, Math.floor(Date.now() / 1000));
  t.match(claims, { role: 'client', sub: 'alice' }, 'stdout is the token alone');
  t.match(r.stderr, new RegExp(`id ${claims.id}`), 'details on stderr');

  r = await runOpera(['token', 'create', '--role', 'join', '--ttl', '30m', '--json'], { ...clean, OPERA_GATEWAY: url, OPERA_TOKEN: admin });
  t.equal(r.code, 0, 'token create with OPERA_GATEWAY / OPERA_TOKEN');
  const json = JSON.parse(r.stdout) as { token: string; id: string; role: string; expiresAt: number };
  t.match(json, { role: 'join', sub: 'join' }, '--json prints everything');

  r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h'], clean);
  t.equal(r.code, 2, 'no gateway anywhere: usage error');
  t.match(r.stderr, /opera login/, 'with a hint');
  r = await runOpera(['token', 'create', '--role', 'wizard', '--ttl', '1h', '--gateway', url, '--token', admin], clean);
  t.equal(r.code, 2, 'bad role: usage error');
  r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h', '--gateway', url, '--token', minted], clean);
  t.equal(r.code, 1, 'a client may not mint: failure');
  t.match(r.stderr, /forbidden/);

  r = await runOpera(['login', '--gateway', url, '--token', 'garbage'], clean);
  t.equal(r.code, 1, 'login with a bad token fails');
  r = await runOpera(['login', '--gateway', url, '--token', admin], clean);
  t.equal(r.code, 0, 'login');
  const file = join(home, 'credentials.json');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'credentials file is 0600');
  interface SavedFile { gateway: string; token?: string; session?: { token: string; parent: string; expiresAt: number } }
  const saved = async (): Promise<SavedFile> => JSON.parse(await readFile(file, 'utf8')) as SavedFile;
  const adminId = verifyToken(secrets.authority.publicKey, admin, Math.floor(Date.now() / 1000)).id;
  let creds = await saved();
  t.match(creds, { gateway: url, token: admin, session: { parent: adminId } }, 'holds the gateway, the token and a session of it');
  const first = verifyToken(secrets.authority.publicKey, creds.session!.token, Math.floor(Date.now() / 1000));
  t.equal(first.parent, adminId, 'the session names the token');
  t.ok(first.exp - first.iat <= 600, 'and lasts no longer than the gateway\'s --session-ttl');

  r = await runOpera(['token', 'create', '--role', 'sentinel', '--ttl', '2h', '--json'], clean);
  t.equal(r.code, 0, 'token create with the credentials file');
  t.match(JSON.parse(r.stdout), { role: 'sentinel' });

  r = await runOpera(['token', 'revoke', '--id', claims.id, '--json'], clean);
  t.equal(r.code, 0, 'token revoke');
  t.match(JSON.parse(r.stdout), { id: claims.id });
  const who = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${minted}` } });
  t.equal(who.status, 401, 'the revoked token is refused');
  r = await runOpera(['token', 'revoke', '--id', 'nope'], clean);
  t.equal(r.code, 2, 'bad id: usage error');
  t.equal((await saved()).session?.token, creds.session!.token, 'commands reuse the saved session');

  // A session about to run out is renewed before use; one the gateway no longer knows
  // (here: one that never existed) is renewed after the 401. Both are saved.
  const before = creds.session!.token;
  await writeFile(file, JSON.stringify({ ...creds, session: { ...creds.session!, expiresAt: Date.now() + 5_000 } }), { mode: 0o600 });
  r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h', '--json'], clean);
  t.equal(r.code, 0, `a nearly expired session: renewed first (${r.stderr})`);
  creds = await saved();
  t.not(creds.session?.token, before, 'a new session was saved');
  t.ok(creds.session!.expiresAt > Date.now() + 60_000, 'with time left');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'still 0600');
  const [p, payload] = creds.session!.token.split('.') as [string, string, string];
  const stale = `${p}.${payload}.${'A'.repeat(86)}`;
  await writeFile(file, JSON.stringify({ ...creds, session: { ...creds.session!, token: stale } }), { mode: 0o600 });
  r = await runOpera(['status', '--json'], clean);
  t.notMatch(r.stderr, /credential|session|401/, `a refused session is renewed transparently (${r.stderr})`);
  t.not((await saved()).session?.token, stale, 'and the renewed one saved');

  // A token revoked while logged in: a clear error, not a loop.
  const bob = JSON.parse((await runOpera(['token', 'create', '--role', 'admin', '--ttl', '1h', '--sub', 'bob', '--json'], clean)).stdout) as { token: string; id: string };
  r = await runOpera(['login', '--gateway', url, '--token', bob.token], clean);
  t.equal(r.code, 0, 'log in as bob');
  r = await runOpera(['token', 'revoke', '--id', bob.id, '--gateway', url, '--token', admin], clean);
  t.equal(r.code, 0, 'an admin revokes bob\'s token');
  r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h'], clean);
  t.equal(r.code, 1, 'bob\'s next command fails');
  t.match(r.stderr, /refused the token.*revoked.*opera login/s, `with a clear error (${r.stderr.trim()})`);

  // Logout ends the session everywhere and forgets the token.
  r = await runOpera(['login', '--gateway', url, '--token', admin], clean);
  t.equal(r.code, 0);
  const last = (await saved()).session!.token;
  t.equal((await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${last}` } })).status, 200, 'the session works');
  r = await runOpera(['logout', '--json'], clean);
  t.equal(r.code, 0, `logout (${r.stderr})`);
  t.match(JSON.parse(r.stdout), { ended: true });
  t.same(await saved(), { gateway: url }, 'the file keeps only the gateway');
  t.equal((await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${last}` } })).status, 401, 'the session is refused');
  r = await runOpera(['token', 'create', '--role', 'client', '--ttl', '1h'], clean);
  t.equal(r.code, 2, 'no token any more: usage error');

  gw.kill('SIGTERM');
  t.equal(await gw.exited(), 0, 'the gateway stops cleanly on SIGTERM');
});
