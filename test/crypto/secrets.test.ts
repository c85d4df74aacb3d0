import t from 'tap';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SecretsFileError } from '../../src/crypto/errors.js';
import {
  currentKek, generateClusterSecrets, generateKek, kekLabel, loadClusterSecrets, rotateKek, saveClusterSecrets,
  secretsFileExists, type ClusterSecrets,
} from '../../src/crypto/secrets.js';

function secretStrings(secrets: ClusterSecrets): string[] {
  const raw = [secrets.authority.secretKey.expose(), ...secrets.keks.map((k) => k.key.expose())];
  return raw.flatMap((b) => [b.toString('hex'), b.toString('base64'), b.toString('base64url')]);
}

t.test('generate, save with mode 0600, load back the same secrets', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'cluster.secrets');
  const secrets = generateClusterSecrets();
  t.equal(secrets.keks.length, 1);
  t.equal(kekLabel(secrets.keks[0]!), 'kek-1');
  t.equal(await secretsFileExists(path), false);
  await saveClusterSecrets(path, secrets);
  t.equal(await secretsFileExists(path), true);
  t.equal((await stat(path)).mode & 0o777, 0o600, 'file mode is 0600');
  t.same(await readdir(dir), ['cluster.secrets'], 'no temp file left behind');
  const loaded = await loadClusterSecrets(path);
  t.ok(loaded.authority.publicKey.equals(secrets.authority.publicKey));
  t.ok(loaded.authority.secretKey.expose().equals(secrets.authority.secretKey.expose()));
  t.same(loaded.keks.map((k) => [k.name, k.version, k.key.expose().toString('hex')]),
    secrets.keks.map((k) => [k.name, k.version, k.key.expose().toString('hex')]));
});

t.test('refuses to overwrite unless asked; rotation round-trips', async (t) => {
  const path = join(t.testdir(), 'cluster.secrets');
  const secrets = generateClusterSecrets();
  await saveClusterSecrets(path, secrets);
  await t.rejects(saveClusterSecrets(path, generateClusterSecrets()), { name: 'SecretsFileError', code: 'exists' });
  t.ok((await loadClusterSecrets(path)).authority.publicKey.equals(secrets.authority.publicKey), 'original untouched');
  const rotated = rotateKek(secrets);
  await saveClusterSecrets(path, rotated, { overwrite: true });
  const loaded = await loadClusterSecrets(path);
  t.same(loaded.keks.map(kekLabel), ['kek-1', 'kek-2']);
  t.equal(kekLabel(currentKek(loaded.keks)), 'kek-2');
  t.equal((await stat(path)).mode & 0o777, 0o600, 'still 0600 after overwrite');
  t.same(await readdir(join(path, '..')), ['cluster.secrets']);
});

t.test('refuses a secrets file with looser permissions', async (t) => {
  const path = join(t.testdir(), 'cluster.secrets');
  await saveClusterSecrets(path, generateClusterSecrets());
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o601, 0o610, 0o777]) {
    await chmod(path, mode);
    const err = await loadClusterSecrets(path).then(() => null, (e: unknown) => e);
    t.type(err, SecretsFileError, `mode 0${mode.toString(8)} refused`);
    t.equal((err as SecretsFileError).code, 'insecure-permissions');
    t.match((err as Error).message, `mode 0${mode.toString(8)}`);
    t.match((err as Error).message, /chmod 600/);
  }
  await chmod(path, 0o400);
  t.ok(await loadClusterSecrets(path), 'owner read-only (0400) is fine');
});

t.test('invalid files are refused without echoing their content', async (t) => {
  const dir = t.testdir();
  const good = generateClusterSecrets();
  const goodPath = join(dir, 'good');
  await saveClusterSecrets(goodPath, good);
  const doc = JSON.parse(await readFile(goodPath, 'utf8')) as Record<string, unknown>;
  const other = generateClusterSecrets();
  const cases: Array<[string, string]> = [
    ['not JSON', '{"authority": SECRETSTUFF-abcdef'],
    ['wrong format', JSON.stringify({ ...doc, format: 'x' })],
    ['newer version', JSON.stringify({ ...doc, version: 2 })],
    ['no keks', JSON.stringify({ ...doc, keks: [] })],
    ['short KEK', JSON.stringify({ ...doc, keks: [{ name: 'kek', version: 1, key: 'AAAA' }] })],
    ['bad KEK name', JSON.stringify({ ...doc, keks: [{ ...(doc.keks as object[])[0], name: 'KEK!' }] })],
    ['duplicate KEK', JSON.stringify({ ...doc, keks: [(doc.keks as object[])[0], (doc.keks as object[])[0]] })],
    ['mismatched authority key pair', JSON.stringify({
      ...doc, authority: { ...(doc.authority as object), publicKey: other.authority.publicKey.toString('base64url') },
    })],
  ];
  for (const [name, content] of cases) {
    const path = join(dir, name.replace(/ /g, '-'));
    await writeFile(path, content, { mode: 0o600 });
    const err = await loadClusterSecrets(path).then(() => null, (e: unknown) => e);
    t.match(err, { name: 'SecretsFileError', code: 'invalid' }, name);
    const message = (err as Error).message;
    t.notMatch(message, 'SECRETSTUFF', `${name}: message does not quote the file`);
    for (const s of secretStrings(good)) t.notOk(message.includes(s), `${name}: no key material in the message`);
  }
  await t.rejects(loadClusterSecrets(join(dir, 'missing')), { code: 'not-found' });
  await t.rejects(loadClusterSecrets(dir), { code: 'invalid' }, 'a directory is not a secrets file');
});

t.test('secrets never print', async (t) => {
  const secrets = rotateKek(generateClusterSecrets());
  const renderings = [
    inspect(secrets, { depth: 10 }), JSON.stringify(secrets), String(secrets.authority.secretKey), `${secrets.keks[0]!.key}`,
    inspect(secrets.keks, { depth: 10, showHidden: true }),
  ];
  for (const text of renderings) {
    for (const s of secretStrings(secrets)) t.notOk(text.includes(s), 'no key material rendered');
    t.match(text, /redacted/);
  }
});

t.test('KEK names and versions are validated', async (t) => {
  t.throws(() => generateKek('Kek', 1), /KEK name/);
  t.throws(() => generateKek('', 1), /KEK name/);
  t.throws(() => generateKek('k'.repeat(33), 1), /KEK name/);
  t.throws(() => generateKek('kek', 0), /KEK version/);
  t.throws(() => generateKek('kek', 2 ** 32), /KEK version/);
  t.equal(generateKek('k'.repeat(32), 2 ** 32 - 1).version, 2 ** 32 - 1);
  t.throws(() => generateClusterSecrets('bad name'), /KEK name/);
  t.equal(kekLabel(currentKek(rotateKek(rotateKek(generateClusterSecrets('primary'))).keks)), 'primary-3');
});
