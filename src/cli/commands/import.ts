// `opera import FILE.ndjson[.gz]`: bulk-load {"key", "value"} records. Each value (any
// JSON) is stored as its JSON text with content type application/json. Writes use
// If-None-Match: *, so a re-run skips what is already there (resumable).
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Option } from 'clipanion';
import { ObjectError } from '../../client/objects.js';
import { isValidKey } from '../../common/keys.js';
import { intOption, OperaCommand, UsageError } from '../base.js';
import { GatewayClientCommand } from './objects.js';

interface Summary {
  stored: number;
  skipped: number;
  failed: number;
  invalid: number;
  seconds: number;
}

export class ImportCommand extends GatewayClientCommand {
  static override paths = [['import']];
  static override usage = OperaCommand.Usage({
    description: 'Bulk-load NDJSON records {"key": ..., "value": ...} (gzip allowed); re-running skips what is stored',
    examples: [['The Hipparcos catalogue', 'opera import hipparcos-stars.ndjson.gz']],
  });
  file = Option.String({ required: true });
  concurrency = Option.String('--concurrency', { description: 'Writes in flight (default 32)' });

  async run(): Promise<number> {
    await access(this.file).catch(() => { throw new UsageError(`cannot read ${this.file}`); });
    const concurrency = intOption(this.concurrency, '--concurrency', 32, 1, 512);
    const client = await this.objects();
    const input = createReadStream(this.file);
    const lines = createInterface({ input: this.file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
    const started = Date.now();
    const sum: Summary = { stored: 0, skipped: 0, failed: 0, invalid: 0, seconds: 0 };
    const errors: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const tty = (this.context.stdout as NodeJS.WriteStream).isTTY === true && !this.json;
    let lineNo = 0;
    let lastDraw = 0;
    const draw = (final = false): void => {
      if (!tty || (!final && Date.now() - lastDraw < 200)) return;
      lastDraw = Date.now();
      const done = sum.stored + sum.skipped + sum.failed + sum.invalid;
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      this.context.stdout.write(`\r${done} records  ${sum.stored} stored  ${sum.skipped} skipped  ${sum.failed + sum.invalid} failed  ${rate.toFixed(0)}/s   ${final ? '\n' : ''}`);
    };
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let rec: { key?: unknown; value?: unknown };
      try {
        rec = JSON.parse(line) as { key?: unknown; value?: unknown };
      } catch {
        sum.invalid++;
        if (errors.length < 10) errors.push(`line ${lineNo}: not JSON`);
        continue;
      }
      if (typeof rec.key !== 'string' || !isValidKey(rec.key) || !('value' in rec)) {
        sum.invalid++;
        if (errors.length < 10) errors.push(`line ${lineNo}: needs a valid "key" and a "value"`);
        continue;
      }
      const key = rec.key;
      const body = Buffer.from(JSON.stringify(rec.value), 'utf8');
      const p = client.put(key, () => body, { contentType: 'application/json', ifNoneMatch: true }).then(
        () => { sum.stored++; },
        (err: unknown) => {
          if (err instanceof ObjectError && err.status === 412) sum.skipped++;
          else {
            sum.failed++;
            if (errors.length < 10) errors.push(`${key}: ${(err as Error).message}`);
          }
        },
      ).finally(() => {
        inFlight.delete(p);
        draw();
      });
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    sum.seconds = (Date.now() - started) / 1000;
    draw(true);
    const failed = sum.failed + sum.invalid;
    this.out(
      `imported ${this.file}: ${sum.stored} stored, ${sum.skipped} already there, ${failed} failed in ${sum.seconds.toFixed(1)} s` +
        (errors.length ? `\n${errors.map((e) => `  ${e}`).join('\n')}` : ''),
      { ...sum, errors },
    );
    return failed > 0 ? 1 : 0;
  }
}

export const importCommands = [ImportCommand];
