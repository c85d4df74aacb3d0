// `opera put|get|ls|rm|stat`: direct mode — encrypt here, talk to the partition's primary.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat as fsStat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Option } from 'clipanion';
import { BatchingKeyService } from '../../client/batching-keys.js';
import { ObjectClient, ObjectError } from '../../client/objects.js';
import { RemoteKeyService } from '../../client/remote-keys.js';
import { KeyError } from '../../common/keys.js';
import { OperaCommand, UsageError, intOption } from '../base.js';
import { openGatewayAccess } from '../access.js';
import type { GatewayAccess } from '../../client/gateway-http.js';

export abstract class GatewayClientCommand extends OperaCommand {
  gateway = Option.String('--gateway', { description: 'Gateway URL (default: OPERA_GATEWAY, then the credentials file)' });
  token = Option.String('--token', { description: 'Token (default: OPERA_TOKEN, then the credentials file)' });

  /** The gateway and the credential to send: a session for client and admin tokens. */
  async access(): Promise<GatewayAccess> {
    return openGatewayAccess({ gateway: this.gateway, token: this.token });
  }

  async objects(): Promise<ObjectClient> {
    const access = await this.access();
    return new ObjectClient(access, { keys: new BatchingKeyService(new RemoteKeyService(access)) });
  }

  /** Bad keys are usage errors (exit 2); everything else a failed operation. */
  protected async checked<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KeyError) throw new UsageError(err.message);
      throw err;
    }
  }
}

function version(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/"/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} must be a version number (the ETag)`);
  return n;
}

export class PutCommand extends GatewayClientCommand {
  static override paths = [['put']];
  static override usage = OperaCommand.Usage({
    description: 'Store a value under a key (from a file, or stdin with -)',
    examples: [['A JSON record', 'opera put sol/earth ./earth.json'], ['From stdin', 'echo hi | opera put notes/hello -']],
  });
  key = Option.String({ required: true });
  file = Option.String({ required: false });
  contentType = Option.String('--content-type', { description: 'Content type (default: from the file name, else application/octet-stream)' });
  ifMatch = Option.String('--if-match', { description: 'Only if the current version is this one (compare-and-set)' });
  ifNoneMatch = Option.Boolean('--if-none-match', false, { description: 'Only if the key does not exist yet' });

  async run(): Promise<number> {
    const file = this.file ?? '-';
    if (file !== '-') await fsStat(file).catch(() => { throw new UsageError(`cannot read ${file}`); });
    const client = await this.objects();
    const contentType = this.contentType ?? (file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    const open = (): AsyncIterable<Uint8Array> => (file === '-' ? process.stdin : createReadStream(file));
    const ifMatch = version(this.ifMatch, '--if-match');
    const res = await this.checked(() => client.put(this.key, open, {
      contentType, ...(ifMatch !== undefined ? { ifMatch } : {}), ...(this.ifNoneMatch ? { ifNoneMatch: true } : {}),
    })).catch(explain);
    this.out(`stored ${this.key} (version ${res.version})`, { key: this.key, version: res.version });
    return 0;
  }
}

export class GetCommand extends GatewayClientCommand {
  static override paths = [['get']];
  static override usage = OperaCommand.Usage({ description: 'Read a value (to stdout, or to a file)' });
  key = Option.String({ required: true });
  file = Option.String({ required: false });
  any = Option.Boolean('--any', false, { description: 'Read from any replica (may be slightly stale)' });

  async run(): Promise<number> {
    const client = await this.objects();
    const got = await this.checked(() => client.get(this.key, { consistency: this.any ? 'any' : 'linearizable' })).catch(explain);
    if (!got) {
      this.context.stderr.write(`opera: ${this.key}: not found\n`);
      return 1;
    }
    const out = !this.file || this.file === '-' ? this.context.stdout : createWriteStream(this.file);
    await pipeline(got.body, out, { end: out !== this.context.stdout });
    return 0;
  }
}

export class StatCommand extends GatewayClientCommand {
  static override paths = [['stat']];
  static override usage = OperaCommand.Usage({ description: 'Show a key\'s version, size, content type and digest' });
  key = Option.String({ required: true });

  async run(): Promise<number> {
    const client = await this.objects();
    const info = await this.checked(() => client.stat(this.key)).catch(explain);
    if (!info) {
      this.context.stderr.write(`opera: ${this.key}: not found\n`);
      return 1;
    }
    this.out(`${info.key}\n  version       ${info.version}\n  size          ${info.size} bytes\n  content-type  ${info.contentType}\n  digest        ${info.digest}`, info);
    return 0;
  }
}

export class RmCommand extends GatewayClientCommand {
  static override paths = [['rm']];
  static override usage = OperaCommand.Usage({ description: 'Delete a key' });
  key = Option.String({ required: true });
  ifMatch = Option.String('--if-match', { description: 'Only if the current version is this one' });

  async run(): Promise<number> {
    const client = await this.objects();
    const ifMatch = version(this.ifMatch, '--if-match');
    const existed = await this.checked(() => client.delete(this.key, ifMatch !== undefined ? { ifMatch } : {})).catch(explain);
    if (!existed) {
      this.context.stderr.write(`opera: ${this.key}: not found\n`);
      return 1;
    }
    this.out(`deleted ${this.key}`, { key: this.key, deleted: true });
    return 0;
  }
}

export class LsCommand extends GatewayClientCommand {
  static override paths = [['ls']];
  static override usage = OperaCommand.Usage({ description: 'List keys by prefix, in key order', examples: [['One constellation', 'opera ls Ori/']] });
  prefix = Option.String({ required: false });
  after = Option.String('--after', { description: 'Start after this key (the cursor printed by the previous page)' });
  limit = Option.String('--limit', { description: 'Keys per page (default 1000)' });
  all = Option.Boolean('--all', false, { description: 'Follow every page' });

  async run(): Promise<number> {
    const client = await this.objects();
    const limit = intOption(this.limit, '--limit', 1000, 1, 10_000);
    let after = this.after;
    const items = [];
    for (;;) {
      const page = await this.checked(() => client.list(this.prefix ?? '', { limit, ...(after ? { after } : {}) })).catch(explain);
      items.push(...page.items);
      if (!this.json) for (const i of page.items) this.context.stdout.write(`${i.key}\t${i.size}\t${i.version}\n`);
      after = page.next ?? undefined;
      if (!this.all || !page.next) {
        if (this.json) this.context.stdout.write(JSON.stringify({ items, next: page.next }) + '\n');
        else if (page.next) this.context.stderr.write(`(more: --after '${page.next}')\n`);
        return 0;
      }
    }
  }
}

/** Turns a data-plane refusal into one clear message. */
function explain(err: unknown): never {
  if (err instanceof ObjectError && err.code === 'precondition-failed') throw new Error(`precondition failed: ${err.message}`);
  throw err;
}

export const objectCommands = [PutCommand, GetCommand, StatCommand, RmCommand, LsCommand];
