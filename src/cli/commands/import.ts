// `opera import FILE.ndjson[.gz]`: bulk load. Records are grouped by partition and sent
// in batches to each partition's primary (one request and one group commit per batch,
// every value still encrypted with its own data key); a few batches are in flight at
// once. Every record is written create-only, so a re-run skips what is stored.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Option } from 'clipanion';
import { MAX_BATCHED_VALUE_BYTES, MAX_BATCH_ITEMS, type BatchPutItem, type BatchPutResult } from '../../client/batch-put.js';
import { ObjectError, type ObjectClient } from '../../client/objects.js';
import { isValidKey } from '../../common/keys.js';
import { partitionOf } from '../../meta/placement.js';
import { intOption, OperaCommand, UsageError } from '../base.js';
import { GatewayClientCommand } from './objects.js';

interface Summary {
  stored: number;
  skipped: number;
  failed: number;
  invalid: number;
  seconds: number;
}

const CONTENT_TYPE = 'application/json';
/** Records held in partition queues before the fullest one is sent early. */
const MAX_QUEUED = 50_000;

export class ImportCommand extends GatewayClientCommand {
  static override paths = [['import']];
  static override usage = OperaCommand.Usage({
    description: 'Bulk-load NDJSON records {"key": ..., "value": ...} (gzip allowed); re-running skips what is stored. A batch refused for a temporary reason (a replica catching up, a new primary) is sent again for up to 2 minutes before its records count as failed',
    examples: [['The Hipparcos catalogue', 'opera import hipparcos-stars.ndjson.gz']],
  });
  file = Option.String({ required: true });
  concurrency = Option.String('--concurrency', { description: 'Batches in flight (default 8)' });
  batch = Option.String('--batch', { description: `Records per batch, sent to one partition's primary (default 500, at most ${MAX_BATCH_ITEMS})` });

  async run(): Promise<number> {
    await access(this.file).catch(() => { throw new UsageError(`cannot read ${this.file}`); });
    const concurrency = intOption(this.concurrency, '--concurrency', 8, 1, 256);
    const batchSize = intOption(this.batch, '--batch', 500, 1, MAX_BATCH_ITEMS);
    const client = await this.objects();
    const partitions = (await client.map.current()).partitionCount;
    const input = createReadStream(this.file);
    const lines = createInterface({ input: this.file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
    const started = Date.now();
    const sum: Summary = { stored: 0, skipped: 0, failed: 0, invalid: 0, seconds: 0 };
    const errors: string[] = [];
    const note = (message: string): void => {
      if (errors.length < 10) errors.push(message);
    };
    const tty = (this.context.stdout as NodeJS.WriteStream).isTTY === true && !this.json;
    let lastDraw = 0;
    const draw = (final = false): void => {
      if (!tty || (!final && Date.now() - lastDraw < 200)) return;
      lastDraw = Date.now();
      const done = sum.stored + sum.skipped + sum.failed + sum.invalid;
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      this.context.stdout.write(`\r${done} records  ${sum.stored} stored  ${sum.skipped} skipped  ${sum.failed + sum.invalid} failed  ${rate.toFixed(0)}/s   ${final ? '\n' : ''}`);
    };

    const count = (key: string, r: BatchPutResult): void => {
      if (r.ok) sum.stored++;
      else if (r.status === 412) sum.skipped++;
      else {
        sum.failed++;
        note(`${key}: ${r.message}`);
      }
    };
    const inFlight = new Set<Promise<void>>();
    const send = async (partition: number, items: BatchPutItem[]): Promise<void> => {
      const p = writeBatch(client, partition, items, count, (key, err) => {
        sum.failed++;
        note(`${key}: ${err.message}`);
      }).finally(() => {
        inFlight.delete(p);
        draw();
      });
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    };

    const queues = new Map<number, BatchPutItem[]>();
    let queued = 0;
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let rec: { key?: unknown; value?: unknown };
      try {
        rec = JSON.parse(line) as { key?: unknown; value?: unknown };
      } catch {
        sum.invalid++;
        note(`line ${lineNo}: not JSON`);
        continue;
      }
      if (typeof rec.key !== 'string' || !isValidKey(rec.key) || !('value' in rec)) {
        sum.invalid++;
        note(`line ${lineNo}: needs a valid "key" and a "value"`);
        continue;
      }
      const item: BatchPutItem = { key: rec.key, value: Buffer.from(JSON.stringify(rec.value), 'utf8'), contentType: CONTENT_TYPE, ifNoneMatch: true };
      const partition = partitionOf(item.key, partitions);
      const queue = queues.get(partition) ?? [];
      queues.set(partition, queue);
      queue.push(item);
      queued++;
      if (queue.length >= batchSize) {
        queues.delete(partition);
        queued -= queue.length;
        await send(partition, queue);
      } else if (queued >= MAX_QUEUED) {
        const [fullest, items] = [...queues].reduce((a, b) => (b[1].length > a[1].length ? b : a));
        queues.delete(fullest);
        queued -= items.length;
        await send(fullest, items);
      }
    }
    for (const [partition, items] of queues) await send(partition, items);
    await Promise.all(inFlight);
    sum.seconds = (Date.now() - started) / 1000;
    draw(true);
    const failed = sum.failed + sum.invalid;
    const rate = (sum.stored + sum.skipped) / Math.max(0.001, sum.seconds);
    this.out(
      `imported ${this.file}: ${sum.stored} stored, ${sum.skipped} already there, ${failed} failed in ${sum.seconds.toFixed(1)} s (${rate.toFixed(0)} records/s)` +
        (errors.length ? `\n${errors.map((e) => `  ${e}`).join('\n')}` : ''),
      { ...sum, errors },
    );
    return failed > 0 ? 1 : 0;
  }
}

/** One partition's records: small ones in one batch request, large ones one by one. */
async function writeBatch(
  client: ObjectClient, partition: number, items: BatchPutItem[],
  count: (key: string, r: BatchPutResult) => void, fail: (key: string, err: Error) => void,
): Promise<void> {
  const small = items.filter((it) => it.value.byteLength <= MAX_BATCHED_VALUE_BYTES);
  const large = items.filter((it) => it.value.byteLength > MAX_BATCHED_VALUE_BYTES);
  if (small.length > 0) {
    try {
      const results = await client.putBatch(partition, small);
      small.forEach((it, i) => count(it.key, results[i] ?? { ok: false, status: 502, code: 'bad-answer', message: 'the node answered fewer items than sent' }));
    } catch (err) {
      for (const it of small) fail(it.key, err as Error);
    }
  }
  for (const it of large) {
    try {
      await client.put(it.key, () => it.value, { contentType: it.contentType, ifNoneMatch: true });
      count(it.key, { ok: true, version: 0 });
    } catch (err) {
      if (err instanceof ObjectError && err.status === 412) count(it.key, { ok: false, status: 412, code: 'precondition-failed', message: '' });
      else fail(it.key, err as Error);
    }
  }
}

export const importCommands = [ImportCommand];
