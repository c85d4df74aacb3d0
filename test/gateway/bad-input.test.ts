// Bad input to the gateway: broken JSON, wrong content types, oversized bodies and
// headers, garbage HTTP, unknown routes and methods, hostile request ids. Each gets a
// clear JSON error and the server stays up. No meta is needed for any of it.
import { connect } from 'node:net';
import t from 'tap';
import { generateClusterSecrets } from '../../src/crypto/secrets.js';
import { call, startTestGateway, token } from './helpers.js';

function raw(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(request));
    s.on('data', (b) => (out += b.toString()));
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.setTimeout(5000, () => s.destroy());
  });
}

t.test('bad input gets clear errors and the server stays up', async (t) => {
  const secrets = generateClusterSecrets();
  const gw = await startTestGateway(t, null, secrets, { metaEndpoints: ['http://127.0.0.1:1'] });
  const admin = token(secrets, 'admin', 'root');
  const port = Number(new URL(gw.url).port);
  const post = (path: string, body: string | Buffer, type = 'application/json') =>
    call(gw.url, path, { method: 'POST', token: admin, body, headers: { 'content-type': type } });

  let r = await post('/v1/tokens', '{"role": "client", "ttl": ');
  t.equal(r.status, 400, 'truncated JSON: 400');
  t.equal(r.body.error?.code, 'bad-json');
  r = await post('/v1/tokens', '[1, 2, 3]');
  t.equal(r.status, 400, 'a JSON array: 400');
  t.match(r.body.error?.message, /JSON object/);
  r = await post('/v1/tokens', 'null');
  t.equal(r.status, 400, 'JSON null: 400');
  r = await post('/v1/tokens', 'role=client', 'application/x-www-form-urlencoded');
  t.equal(r.status, 415, 'a form: 415');
  r = await post('/v1/tokens', JSON.stringify({ role: 'client', ttl: '1h', sub: 'x'.repeat(2 << 20) }));
  t.equal(r.status, 413, 'a 2 MiB body: 413');
  t.equal(r.body.error?.code, 'too-large');
  r = await post('/v1/keys/wrap', JSON.stringify({ items: [{ objectKey: 'a', dataKey: 'x'.repeat(5 << 20) }] }));
  t.equal(r.status, 413, 'a 5 MiB key batch: 413');
  r = await post('/v1/tokens', JSON.stringify({ role: 'client', ttl: '1h', sub: 's'.repeat(300) }));
  t.equal(r.status, 400, 'sub too long: 400');
  t.match(r.body.error?.message, /sub/);

  r = await call(gw.url, '/v1/route?key=sol//earth', { token: token(secrets, 'client') });
  t.equal(r.status, 400, 'a bad key: 400, even before the map is loaded');
  t.equal(r.body.error?.code, 'invalid-key');

  r = await call(gw.url, '/v1/whoami', { token: admin, headers: { 'x-big': 'a'.repeat(20_000) } }).catch((err: Error) => ({ status: -1, body: { error: { code: err.message, message: '' } }, headers: new Headers() }));
  t.equal(r.status, 431, 'huge headers: 431');
  t.equal(r.body.error?.code, 'headers-too-large');
  const garbage = await raw(port, 'THIS IS NOT HTTP\r\n\r\n');
  t.match(garbage, /^HTTP\/1\.1 400/, 'garbage on the socket: 400');
  t.match(garbage, /"code":"bad-request"/, 'as JSON');
  const binary = await raw(port, Buffer.alloc(256, 0xff));
  t.match(binary, /^HTTP\/1\.1 400/, 'binary junk: 400');

  r = await call(gw.url, '/v1/nothing-here', { token: admin });
  t.equal(r.status, 404, 'unknown route: 404');
  t.equal(r.body.error?.code, 'not-found');
  r = await call(gw.url, '/v1/tokens', { method: 'DELETE', token: admin });
  t.equal(r.status, 405, 'wrong method: 405');
  t.equal(r.body.error?.code, 'method-not-allowed');
  t.match(r.headers.get('allow'), /POST/);

  for (const [what, header] of [
    ['no scheme', 'opera1.abc.def'],
    ['garbage token', 'Bearer not-a-token'],
    ['huge token', `Bearer ${'a'.repeat(8000)}`],
    ['bad signature header', 'opera-sig1 cert=x'],
  ] as const) {
    r = await call(gw.url, '/v1/whoami', { headers: { authorization: header } });
    t.equal(r.status, 401, `${what}: 401`);
  }
  r = await call(gw.url, '/v1/renew', { method: 'POST', headers: { authorization: 'opera-sig1 cert=x,ts=1,nonce=00,sig=zz' } });
  t.equal(r.status, 503, 'renewal before the map is loaded: 503');

  r = await call(gw.url, '/healthz', { headers: { 'x-request-id': 'abc-123' } });
  t.equal(r.headers.get('x-request-id'), 'abc-123', 'a sane request id is kept');
  r = await call(gw.url, '/healthz', { headers: { 'x-request-id': 'bad id with spaces and "quotes"' } });
  t.match(r.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'a hostile one is replaced');
  t.match((await call(gw.url, '/nope')).headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'errors carry one too');

  const health = await call(gw.url, '/healthz');
  t.equal(health.status, 200, 'still up');
  t.same(health.body, { ok: true });
});
