import t from 'tap';
import { inspect } from 'node:util';
import { openValue, readEncryptionHeader, sealValue } from '../../src/crypto/envelope.js';
import { encodeHeader, HEADER_LENGTH } from '../../src/crypto/envelope-format.js';
import { LocalKeyService, MAX_KEY_BATCH, rewrapHeader, unwrapOne } from '../../src/crypto/key-service.js';
import { assertObjectKey, generateDataKey, wrapAssociatedData, wrapDataKey, unwrapDataKey } from '../../src/crypto/key-wrap.js';
import { generateClusterSecrets, generateKek, rotateKek } from '../../src/crypto/secrets.js';

t.test('KEK rotation: new wraps use the newest version, old objects still open', async (t) => {
  const secrets = generateClusterSecrets();
  const before = new LocalKeyService(secrets.keks);
  const oldObject = await sealValue(before, 'sol/earth', Buffer.from('old'));
  t.equal(readEncryptionHeader(oldObject).kekVersion, 1);

  const rotated = rotateKek(secrets);
  t.same(rotated.keks.map((k) => `${k.name}-${k.version}`), ['kek-1', 'kek-2']);
  const after = new LocalKeyService(rotated.keks);
  t.same(after.currentKek, { name: 'kek', version: 2 });
  const newObject = await sealValue(after, 'sol/earth', Buffer.from('new'));
  t.equal(readEncryptionHeader(newObject).kekVersion, 2, 'new object wrapped by kek-2');
  t.equal((await openValue(after, 'sol/earth', oldObject)).toString(), 'old', 'kek-1 object still opens');
  t.equal((await openValue(after, 'sol/earth', newObject)).toString(), 'new');

  const onlyNew = new LocalKeyService(rotated.keks.slice(1));
  await t.rejects(openValue(onlyNew, 'sol/earth', oldObject), { code: 'unknown-kek' }, 'retired KEK cannot unwrap');

  // Retiring kek-1: re-wrap the old object's header; its frames are untouched.
  const newHeader = await rewrapHeader(after, 'sol/earth', readEncryptionHeader(oldObject));
  t.equal(newHeader.kekVersion, 2);
  const rewrapped = Buffer.concat([encodeHeader(newHeader), oldObject.subarray(HEADER_LENGTH)]);
  t.equal((await openValue(onlyNew, 'sol/earth', rewrapped)).toString(), 'old', 're-wrapped object opens without kek-1');
  await t.rejects(openValue(before, 'sol/earth', newObject), { code: 'unknown-kek' }, 'an older gateway does not know kek-2');
});

t.test('batches: one result per request, bad items fail alone', async (t) => {
  const service = new LocalKeyService([generateKek('kek', 1)]);
  const requests = Array.from({ length: 50 }, (_, i) => ({ objectKey: `hip/${i}`, dataKey: generateDataKey() }));
  const wrapped = await service.wrap(requests);
  t.equal(wrapped.length, 50);
  const unwrapRequests = wrapped.map((header, i) => ({ objectKey: `hip/${i}`, header }));
  const tamperedKey = Buffer.from(wrapped[7]!.wrappedKey);
  tamperedKey[0] ^= 1;
  unwrapRequests[7] = { objectKey: 'hip/7', header: { ...wrapped[7]!, wrappedKey: tamperedKey } };
  unwrapRequests[8] = { objectKey: 'hip/9', header: wrapped[8]! }; // moved
  unwrapRequests[9] = { objectKey: 'hip/9', header: { ...wrapped[9]!, kekVersion: 5 } };
  const results = await service.unwrap(unwrapRequests);
  t.equal(results.length, 50);
  results.forEach((result, i) => {
    if (i === 7 || i === 8) t.same(result.ok ? 'ok' : result.error.code, 'unwrap-failed', `item ${i}`);
    else if (i === 9) t.same(result.ok ? 'ok' : result.error.code, 'unknown-kek', `item ${i}`);
    else if (!result.ok) t.fail(`item ${i} should unwrap`);
    else if (!result.dataKey.expose().equals(requests[i]!.dataKey.expose())) t.fail(`item ${i} unwrapped to another key`);
  });
  await t.rejects(unwrapOne(service, 'hip/7', unwrapRequests[7]!.header), { name: 'EnvelopeError', code: 'unwrap-failed' });
});

t.test('batch size is bounded', async (t) => {
  const service = new LocalKeyService([generateKek('kek', 1)]);
  const dataKey = generateDataKey();
  const tooMany = Array.from({ length: MAX_KEY_BATCH + 1 }, () => ({ objectKey: 'a', dataKey }));
  await t.rejects(service.wrap(tooMany), /exceeds the limit/);
  t.equal((await service.wrap(tooMany.slice(1))).length, MAX_KEY_BATCH);
});

t.test('key ring invariants', async (t) => {
  t.throws(() => new LocalKeyService([]), /no KEK/);
  t.throws(() => new LocalKeyService([generateKek('kek', 1), generateKek('kek', 1)]), /duplicate KEK kek-1/);
  t.throws(() => new LocalKeyService([generateKek('red', 3), generateKek('blue', 3)]), /ambiguous current KEK/);
  const mixed = new LocalKeyService([generateKek('red', 3), generateKek('blue', 4)]);
  t.same(mixed.currentKek, { name: 'blue', version: 4 });
});

t.test('object keys are validated and bound into the associated data', async (t) => {
  t.throws(() => assertObjectKey(''), /non-empty/);
  t.throws(() => assertObjectKey('bad\ud800key'), /well-formed/);
  t.throws(() => assertObjectKey('x'.repeat(1025)), /at most 1024 bytes/);
  t.doesNotThrow(() => assertObjectKey('é'.repeat(512)));
  t.throws(() => assertObjectKey('é'.repeat(513)), /at most 1024 bytes/);
  const ad = wrapAssociatedData('kek', 7, 'sol/earth');
  t.equal(ad.toString('hex'), Buffer.concat([
    Buffer.from('SOPE'), Buffer.from([1, 3]), Buffer.from('kek'), Buffer.alloc(29), Buffer.from([0, 0, 0, 7]),
    Buffer.from([0, 0, 0, 9]), Buffer.from('sol/earth'),
  ]).toString('hex'), 'associated data layout');
  t.notSame(wrapAssociatedData('kek', 7, 'a/b'), wrapAssociatedData('kek', 7, 'a/c'));
  const service = new LocalKeyService([generateKek('kek', 1)]);
  await t.rejects(service.wrap([{ objectKey: '', dataKey: generateDataKey() }]), /non-empty/);
});

t.test('wrapDataKey / unwrapDataKey directly', async (t) => {
  const kek = generateKek('kek', 1);
  const dataKey = generateDataKey();
  const wrapped = wrapDataKey(kek, 'sol/mars', dataKey);
  t.ok(unwrapDataKey(kek, 'sol/mars', wrapped).expose().equals(dataKey.expose()));
  t.throws(() => unwrapDataKey(kek, 'sol/deimos', wrapped), { code: 'unwrap-failed' });
  t.throws(() => unwrapDataKey(generateKek('kek', 2), 'sol/mars', wrapped), /KEK kek-2 given/);
  t.notMatch(inspect(dataKey), dataKey.expose().toString('hex'), 'data keys do not print');
  t.equal(JSON.stringify({ dataKey }), '{"dataKey":"data key[redacted]"}');
});
