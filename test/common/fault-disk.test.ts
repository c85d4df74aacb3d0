// The slow-disk fault hook: the file's format, the watcher's re-reads, and the database
// wrapper that delays only synced writes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DISK_FAULT_POLL_MS, delaySyncedWrites, parseDiskFaultFile, watchDiskFaultFile, type DiskFaults } from '../../src/common/fault-disk.js';

t.test('the fault file', async (t) => {
  t.same(parseDiskFaultFile('{"fsyncDelayMs": 250}'), { fsyncDelayMs: 250 });
  t.same(parseDiskFaultFile('{}'), { fsyncDelayMs: 0 });
  t.same(parseDiskFaultFile('  \n'), { fsyncDelayMs: 0 }, 'an empty file is no fault');
  for (const bad of ['[]', 'null', '7', '{"fsyncDelayMs": -1}', '{"fsyncDelayMs": 1.5}', '{"fsyncDelayMs": "9"}', '{"fsyncDelayMs": 600001}', '{nope']) {
    t.throws(() => parseDiskFaultFile(bad), bad);
  }
});

t.test('the watcher follows the file and keeps the last good setting on a bad one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'opera-fault-disk-'));
  const file = join(dir, 'disk.json');
  const warnings: string[] = [];
  const faults = watchDiskFaultFile(file, (m) => warnings.push(m));
  t.teardown(async () => {
    faults.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.equal(faults.delayMs, 0, 'no file, no delay');
  await writeFile(file, '{"fsyncDelayMs": 120}');
  await new Promise((r) => setTimeout(r, DISK_FAULT_POLL_MS * 2 + 100));
  t.equal(faults.delayMs, 120);
  const started = performance.now();
  await faults.beforeSync();
  t.ok(performance.now() - started >= 100, 'an fsync waits for the delay');
  await writeFile(file, '{broken');
  await new Promise((r) => setTimeout(r, DISK_FAULT_POLL_MS * 2 + 100));
  t.equal(faults.delayMs, 120, 'a bad file changes nothing');
  t.match(warnings.join('\n'), /bad fault file/);
  await rm(file);
  await new Promise((r) => setTimeout(r, DISK_FAULT_POLL_MS * 2 + 100));
  t.equal(faults.delayMs, 0, 'the file removed, the fault healed');
});

t.test('only synced writes wait', async (t) => {
  const calls: string[] = [];
  let waited = 0;
  const faults: DiskFaults = { delayMs: 5, beforeSync: async () => void waited++, stop() {} };
  class Db {
    #secret = 'private fields still work';
    put(k: string, v: string, o?: { sync?: boolean }): Promise<string> {
      calls.push(`put ${k}=${v} ${o?.sync === true}`);
      return Promise.resolve(this.#secret);
    }
    del(k: string, o?: { sync?: boolean }): Promise<void> {
      calls.push(`del ${k} ${o?.sync === true}`);
      return Promise.resolve();
    }
    batch(ops?: unknown[], o?: { sync?: boolean }): unknown {
      if (ops === undefined) return 'chained';
      calls.push(`batch ${ops.length} ${o?.sync === true}`);
      return Promise.resolve();
    }
    get(k: string): Promise<string> {
      return Promise.resolve(`value of ${k} (${this.#secret})`);
    }
  }
  const db = delaySyncedWrites(new Db(), faults);
  t.equal(await db.put('a', '1', { sync: true }), 'private fields still work');
  await db.put('b', '2');
  await db.del('c', { sync: true });
  await db.batch([1, 2], { sync: false });
  await db.batch([1], { sync: true });
  t.equal(db.batch(), 'chained', 'a chained batch is returned at once');
  t.equal(await db.get('k'), 'value of k (private fields still work)');
  t.equal(waited, 3, 'three synced writes waited');
  t.same(calls, ['put a=1 true', 'put b=2 false', 'del c true', 'batch 2 false', 'batch 1 true']);
});
