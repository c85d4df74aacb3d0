import t from 'tap';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { isValidKey, KeyError, validateKey, validatePrefix, type KeyRule } from '../../src/common/keys.js';

/** The project root: the nearest directory above this file whose package.json is ours. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'space-opera') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('project root not found above the test file');
    dir = parent;
  }
}

/** A short, printable name for a test key. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...(${text.length} chars)` : text;
}

function ruleOf(fn: () => void): KeyRule | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof KeyError) return err.rule;
    throw err;
  }
}

const dataDir = resolve(projectRoot(), '../shared/data');

t.test('every key of the real data sets is valid', { skip: existsSync(dataDir) ? false : `no shared data folder at ${dataDir}` }, async (t) => {
  const files = readdirSync(dataDir).filter((n) => n.endsWith('.ndjson.gz'));
  t.ok(files.length > 0, 'found data files');
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(join(dataDir, file)).pipe(createGunzip()), crlfDelay: Infinity });
    let count = 0;
    const bad: string[] = [];
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const { key } = JSON.parse(line) as { key: string };
      count++;
      if (!isValidKey(key)) bad.push(key);
    }
    t.ok(count > 1000, `${file}: ${count} keys`);
    t.same(bad, [], `${file}: all keys valid`);
  }
});

t.test('good keys', async (t) => {
  const good = [
    'sol/earth/moon',
    'hip/71683',
    'gaia-dr3/4472832130942575872',
    'a',
    'PsA/α PsA',
    'Cep/TOI-1431%2FMASCARA-5',
    'Cnc/EPIC 211939692/a~2',
    '星/🌍',
    'x'.repeat(1024),
    'é'.repeat(512), // 1024 bytes
    'a/b/c/d/e/f',
    'with space/and\u00A0nbsp', // U+00A0 is not a control character
  ];
  for (const key of good) t.doesNotThrow(() => validateKey(key), show(key));
});

t.test('bad keys name the rule that broke', async (t) => {
  const bad: Array<[unknown, KeyRule]> = [
    ['', 'empty'],
    ['/', 'empty-segment'],
    ['/sol', 'empty-segment'],
    ['sol/', 'empty-segment'],
    ['sol//earth', 'empty-segment'],
    ['x'.repeat(1025), 'too-long'],
    ['é'.repeat(513), 'too-long'],
    ['sol\u0000earth', 'control-character'],
    ['sol\nearth', 'control-character'],
    ['tab\there', 'control-character'],
    ['del\u007F', 'control-character'],
    ['c1\u0085', 'control-character'],
    ['c1\u009F', 'control-character'],
    ['lone\uD800surrogate', 'utf8'],
    ['\uDC00', 'utf8'],
    [42, 'type'],
    [null, 'type'],
  ];
  for (const [key, rule] of bad) {
    t.equal(ruleOf(() => validateKey(key as string)), rule, `${show(key)} breaks ${rule}`);
  }
  const err = (() => {
    try {
      validateKey('a\u0001b');
    } catch (e) {
      return e as KeyError;
    }
    return null;
  })();
  t.match(err?.message, /control character U\+0001 at character 1/);
  t.equal(err?.code, 'invalid-key');
  t.match((() => { try { validateKey('x'.repeat(2000)); } catch (e) { return (e as Error).message; } return ''; })(), /2000 bytes/);
});

t.test('prefixes', async (t) => {
  for (const prefix of ['', 'sol', 'sol/', 'sol/ea', 'Cep/TOI-1431%2F', 'PsA/α']) {
    t.doesNotThrow(() => validatePrefix(prefix), show(prefix));
  }
  const bad: Array<[string, KeyRule]> = [
    ['/', 'empty-segment'],
    ['/sol', 'empty-segment'],
    ['sol//', 'empty-segment'],
    ['sol\r', 'control-character'],
    ['x'.repeat(1025), 'too-long'],
    ['\uD83D', 'utf8'],
  ];
  for (const [prefix, rule] of bad) t.equal(ruleOf(() => validatePrefix(prefix)), rule, `${show(prefix)} breaks ${rule}`);
});
