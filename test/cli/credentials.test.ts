// The CLI credentials file: where it lives, mode 0600, and flags > environment > file.
import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { credentialsFile, readCredentialsFile, resolveCredentials, writeCredentialsFile } from '../../src/cli/credentials.js';

t.test('credentials file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'opera-creds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.equal(credentialsFile({ OPERA_HOME: dir }), join(dir, 'credentials.json'), '$OPERA_HOME wins');
  t.equal(credentialsFile({ HOME: '/home/u' }), '/home/u/.config/opera/credentials.json', 'else ~/.config/opera');

  const env = { OPERA_HOME: join(dir, 'nested') };
  t.same(await readCredentialsFile(credentialsFile(env)), {}, 'no file: nothing');
  const path = await writeCredentialsFile({ gateway: 'http://g:1', token: 'file-token' }, credentialsFile(env));
  t.equal((await stat(path)).mode & 0o777, 0o600, 'written 0600');
  t.equal((await stat(join(dir, 'nested'))).mode & 0o777, 0o700, 'in a 0700 directory');
  t.same(await readCredentialsFile(path), { gateway: 'http://g:1', token: 'file-token' });

  t.same(await resolveCredentials({}, env), { gateway: 'http://g:1', token: 'file-token' }, 'file only');
  t.same(await resolveCredentials({}, { ...env, OPERA_TOKEN: 'env-token' }), { gateway: 'http://g:1', token: 'env-token' }, 'env beats the file');
  t.same(await resolveCredentials({ token: 'flag-token' }, { ...env, OPERA_TOKEN: 'env-token', OPERA_GATEWAY: 'http://e:1' }),
    { gateway: 'http://e:1', token: 'flag-token' }, 'flags beat env, field by field');
  t.same(await resolveCredentials({}, { OPERA_HOME: join(dir, 'none') }), {}, 'nothing anywhere');

  await chmod(path, 0o644);
  await t.rejects(readCredentialsFile(path), /readable by others.*chmod 600/, 'refuses a file others can read');
  await writeFile(path, '{not json', { mode: 0o600 });
  await chmod(path, 0o600);
  await t.rejects(readCredentialsFile(path), /not valid JSON/);
  await writeFile(path, '{"token": 5}');
  await t.rejects(readCredentialsFile(path), /"token" must be a string/);
});
