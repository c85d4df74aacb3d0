// OPERA_META_VIA (test-only): "URL=VIA,..." rewrites where a MetaClient dials meta's API.
import t from 'tap';
import { parseMetaVia } from '../../src/meta/client.js';

t.test('parses URL=VIA pairs, with or without a scheme or a trailing slash', async (t) => {
  const via = parseMetaVia('http://127.0.0.1:7001/=http://127.0.0.1:9001, 127.0.0.1:7002=127.0.0.1:9002');
  t.same([...via], [['http://127.0.0.1:7001', 'http://127.0.0.1:9001'], ['http://127.0.0.1:7002', 'http://127.0.0.1:9002']]);
  t.equal(parseMetaVia(undefined).size, 0, 'unset: nothing rewritten');
  t.equal(parseMetaVia('').size, 0);
  t.throws(() => parseMetaVia('http://a:1'), /is not URL=VIA/);
  t.throws(() => parseMetaVia('=http://a:1'), /is not URL=VIA/);
});
