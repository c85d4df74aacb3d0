// End to end, as a user meets the system: `opera dev`, then the CLI (put, get, stat, ls,
// rm, import of the real star data) with the credentials `opera dev` wrote.
import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import t from 'tap';
import { BatchingKeyService } from '../../src/client/batching-keys.js';
import { ObjectClient } from '../../src/client/objects.js';
import { RemoteKeyService } from '../../src/client/remote-keys.js';
import { eventually, projectRoot, runOpera, spawnOpera } from '../helpers/processes.js';

const DATA = resolve(projectRoot, '../shared/data/exoplanet-systems.ndjson.gz');

async function readRecords(file: string): Promise<{ key: string; value: unknown }[]> {
  const out: { key: string; value: unknown }[] = [];
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) out.push(JSON.parse(line) as { key: string; value: unknown });
  return out;
}

t.test('opera dev, then put/get/stat/ls/rm and an import read back in full', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'opera-e2e-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const env = { OPERA_HOME: home, OPERA_LOG_LEVEL: 'warn' };
  const dev = spawnOpera(t, 'dev', ['dev', '--json', '--dir', join(home, 'cluster'), '--nodes', '3'], env);
  const info = await new Promise<{ gateway: string; token: string; processes: { role: string; id: string; pid: number }[] }>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`opera dev did not start:\n${dev.output()}`)), 120_000);
    dev.child.stdout!.on('data', () => {
      const line = dev.output().split('\n').find((l) => l.startsWith('{"gateway"'));
      if (line) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line) as { gateway: string; token: string; processes: { role: string; id: string; pid: number }[] });
      }
    });
    void dev.exited().then((code) => reject(new Error(`opera dev exited with ${code}:\n${dev.output()}`)));
  });
  t.same(info.processes.map((p) => p.role).sort(), ['gateway', 'meta', 'meta', 'meta', 'node', 'node', 'node'].sort().concat(
    info.processes.some((p) => p.role === 'sentinel') ? ['sentinel'] : [],
  ).sort(), 'every role runs as its own process');

  const opera = (args: string[]) => runOpera(args, env, 60_000);
  // opera status reports the leader's view: every meta member's health is known.
  const status = await eventually('every meta member healthy in opera status', async () => {
    const out = await opera(['status', '--json']);
    const view = JSON.parse(out.stdout) as { meta: { leader: string | null; members: { id: string; healthy: boolean | null }[] } };
    return view.meta.leader !== null && view.meta.members.length === 3 && view.meta.members.every((m) => m.healthy === true) ? view : undefined;
  }, 30_000, 500);
  t.ok(status.meta.leader, `opera status: leader ${status.meta.leader}, members ${status.meta.members.map((m) => m.id).join(', ')} healthy`);
  const record = join(home, 'earth.json');
  await writeFile(record, JSON.stringify({ name: 'Earth', kind: 'planet', moons: ['Moon'] }));
  let r = await opera(['put', 'Sol/Sun/Earth', record]);
  t.equal(r.code, 0, `put: ${r.stderr}`);
  r = await opera(['get', 'Sol/Sun/Earth']);
  t.equal(r.code, 0, `get: ${r.stderr}`);
  t.same(JSON.parse(r.stdout), { name: 'Earth', kind: 'planet', moons: ['Moon'] }, 'get returns exactly what was put');
  r = await opera(['stat', 'Sol/Sun/Earth', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { key: 'Sol/Sun/Earth', contentType: 'application/json' });
  r = await opera(['ls', 'Sol/', '--json']);
  t.same((JSON.parse(r.stdout) as { items: { key: string }[] }).items.map((i) => i.key), ['Sol/Sun/Earth']);
  r = await opera(['get', 'Sol/Sun/Pluto']);
  t.equal(r.code, 1, 'a missing key exits 1');
  r = await opera(['put', 'bad//key', record]);
  t.equal(r.code, 2, 'a bad key is bad usage: exit 2');
  t.match(r.stderr, /must not be empty/);
  r = await opera(['rm', 'Sol/Sun/Earth']);
  t.equal(r.code, 0, r.stderr);
  r = await opera(['get', 'Sol/Sun/Earth']);
  t.equal(r.code, 1, 'deleted');

  // The whole exoplanet catalogue (8,559 systems); `npm run bench` loads the larger
  // Hipparcos file.
  const records = await readRecords(DATA);
  r = await runOpera(['import', DATA, '--json'], env, 600_000);
  t.equal(r.code, 0, `import: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { stored: number; skipped: number; failed: number };
  // A batch sent again after its answer was lost finds what it had already written and
  // counts it as skipped: together, stored and skipped are every record, none failed.
  t.equal(summary.failed, 0, `no record failed (${JSON.stringify(summary)})`);
  t.equal(summary.stored + summary.skipped, records.length, `imported ${records.length} records (${summary.stored} stored, ${summary.skipped} found already written)`);
  t.ok(summary.stored > 0, 'a fresh import stores');
  r = await runOpera(['import', DATA, '--json'], env, 600_000);
  const rerun = JSON.parse(r.stdout.trim().split('\n').pop()!) as { stored: number; skipped: number; failed: number; errors: string[] };
  // Resumable: nothing is written twice. (A write refused under load is reported as
  // failed with exit code 1, and a further re-run picks it up.)
  t.equal(rerun.stored, 0, `a re-run writes nothing again (${JSON.stringify({ ...rerun, errors: rerun.errors.slice(0, 3) })})`);
  t.equal(rerun.skipped + rerun.failed, records.length, 'and skips every stored record');

  const access = { gateway: info.gateway, token: info.token };
  const client = new ObjectClient(access, { keys: new BatchingKeyService(new RemoteKeyService(access)) });
  let mismatches = 0;
  for (let i = 0; i < records.length; i += 16) {
    await Promise.all(records.slice(i, i + 16).map(async (rec) => {
      const got = await client.getBytes(rec.key);
      if (got === null || got.toString('utf8') !== JSON.stringify(rec.value)) mismatches++;
    }));
  }
  t.equal(mismatches, 0, `every one of ${records.length} records reads back byte-equal`);
  t.notMatch(dev.output(), /exited \(/, 'no process of the cluster exited');
  const first = records[0]!.key.split('/')[0]!;
  r = await opera(['ls', `${first}/`, '--json', '--all']);
  t.equal((JSON.parse(r.stdout) as { items: unknown[] }).items.length, records.filter((rec) => rec.key.startsWith(`${first}/`)).length,
    `a prefix listing of ${first}/ finds exactly the imported records under it`);

  // The gateway's proxy for simple clients: a round trip, a byte range, the listing,
  // and an upload cut off halfway that must leave nothing behind.
  const auth = { authorization: `Bearer ${info.token}` };
  let res = await fetch(`${info.gateway}/v1/objects/Cen/Proxima/b`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"name":"Proxima b"}' });
  t.equal(res.status, 201, 'proxy PUT');
  res = await fetch(`${info.gateway}/v1/objects/Cen/Proxima/b`, { headers: auth });
  t.equal(await res.text(), '{"name":"Proxima b"}', 'proxy GET returns the plaintext');
  res = await fetch(`${info.gateway}/v1/objects/Cen/Proxima/b`, { headers: { ...auth, range: 'bytes=2-5' } });
  t.equal(res.status, 206);
  t.equal(await res.text(), 'name', 'a byte range');
  res = await fetch(`${info.gateway}/v1/objects?prefix=Cen/Proxima/`, { headers: auth });
  t.same(((await res.json()) as { items: { key: string }[] }).items.map((i) => i.key), ['Cen/Proxima/b'], 'proxy listing');
  await new Promise<void>((resolvePromise) => {
    const u = new URL(`${info.gateway}/v1/objects/Cen/Proxima/c`);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { ...auth, 'content-length': '1000000' } });
    req.on('error', () => resolvePromise());
    req.on('close', () => resolvePromise());
    req.write(Buffer.alloc(50_000, 1), () => setTimeout(() => req.destroy(), 300));
  });
  res = await fetch(`${info.gateway}/v1/objects/Cen/Proxima/c`, { headers: auth });
  t.equal(res.status, 404, 'an upload cut off halfway leaves nothing visible');
  res = await fetch(`${info.gateway}/v1/objects/Cen/Proxima/b`, { headers: {} });
  t.equal(res.status, 401, 'no credential: 401');

  dev.kill('SIGTERM');
  t.equal(await dev.exited(), 0, 'opera dev stops every child on SIGTERM and exits 0');
});
