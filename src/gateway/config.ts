// Where the gateway finds meta and the cluster secrets: `--meta` is either meta API URLs
// (comma-separated) or a bootstrap directory, whose cluster.json lists the members and
// whose secrets.json holds the secrets.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CLUSTER_FILE, readClusterFile } from '../meta/bootstrap.js';
import { SECRETS_FILE } from '../meta/member-files.js';

export interface MetaLocation {
  readonly endpoints: string[];
  /** The secrets file of a bootstrap directory; undefined when URLs were given. */
  readonly secretsFile?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** Resolves `--meta`; throws an Error that says what was expected. */
export async function resolveMetaLocation(value: string): Promise<MetaLocation> {
  const text = value.trim();
  if (text.length === 0) throw new Error('--meta is empty: give meta API URLs or a bootstrap directory');
  const dir = resolve(text);
  if (!text.includes('://') && !text.includes(',') && (await isDirectory(dir))) {
    const cluster = await readClusterFile(dir);
    if (!Array.isArray(cluster.members) || cluster.members.length === 0) throw new Error(`${join(dir, CLUSTER_FILE)} lists no meta members`);
    return { endpoints: cluster.members.map((m) => `http://${m.api}`), secretsFile: join(dir, SECRETS_FILE) };
  }
  const endpoints = text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (s.includes('://') ? s : `http://${s}`));
  for (const e of endpoints) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new Error(`--meta: "${e}" is neither a URL nor a bootstrap directory`);
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '') throw new Error(`--meta: "${e}" must be http(s)://HOST:PORT`);
  }
  return { endpoints: endpoints.map((e) => e.replace(/\/$/, '')) };
}

/** HOST:PORT (IPv6 in brackets); port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+):([0-9]{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen "${value}" must be HOST:PORT, e.g. 127.0.0.1:7300`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
