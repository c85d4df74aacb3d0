// The console's static files: the page and style sheet (console/ in the package) and
// the compiled browser code (dist/console/, built by `npm run build`). Only files in
// this fixed list are served, read once and kept in memory with a content hash as ETag.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The package root, from this file's place in dist/src/gateway/console/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const STATIC: Readonly<Record<string, { dir: string; type: string }>> = {
  'index.html': { dir: 'console', type: 'text/html; charset=utf-8' },
  'console.css': { dir: 'console', type: 'text/css; charset=utf-8' },
};
const SCRIPT = /^[a-z][a-z0-9-]*\.js$/;

/** The asset named `name`, null when there is no such asset, or an error when it is not built. */
export class ConsoleAssets {
  readonly #cache = new Map<string, Promise<Asset | null>>();

  constructor(private readonly root: string = PACKAGE_ROOT) {}

  get(name: string): Promise<Asset | null> {
    let asset = this.#cache.get(name);
    if (asset === undefined) {
      asset = this.#load(name);
      this.#cache.set(name, asset);
      // A file that was missing may be built later: do not remember the failure.
      asset.then((a) => { if (a === null) this.#cache.delete(name); }, () => this.#cache.delete(name));
    }
    return asset;
  }

  async #load(name: string): Promise<Asset | null> {
    const known = STATIC[name];
    const path = known !== undefined ? `${this.root}${known.dir}/${name}` : SCRIPT.test(name) ? `${this.root}dist/console/${name}` : null;
    if (path === null) return null;
    const body = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (body === null) return null;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    return { body, type: known?.type ?? 'text/javascript; charset=utf-8', etag };
  }
}
