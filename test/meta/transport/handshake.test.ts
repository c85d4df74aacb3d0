// The handshake state machines on their own, without sockets.
import t from 'tap';
import { HandshakeError, TransportDecodeError } from '../../../src/meta/transport/errors.js';
import { DialerHandshake, handshakeProof, ListenerHandshake, type HandshakeKeys } from '../../../src/meta/transport/handshake.js';
import { CLUSTER, OTHER_SECRET, prng, randomBytes, randomInt, SECRET, testSeed } from './helpers.js';

const seed = testSeed();
t.comment(`seed ${seed} (set TRANSPORT_TEST_SEED to replay)`);
const rand = prng(seed);
const keys: HandshakeKeys = { clusterId: CLUSTER, secret: SECRET };

/** Runs a whole handshake; returns the frames exchanged and who each side authenticated. */
function exchange(dialer: DialerHandshake, listener: ListenerHandshake): { hello: Buffer; challenge: Buffer; proof: Buffer; dialerPeer: string | null; listenerPeer: string | null } {
  const hello = dialer.start();
  const s1 = listener.onFrame(hello);
  const s2 = dialer.onFrame(s1.reply!);
  const s3 = listener.onFrame(s2.reply!);
  if (s3.reply !== null) throw new Error('the listener must not answer a PROOF');
  return { hello, challenge: s1.reply!, proof: s2.reply!, dialerPeer: s2.peer, listenerPeer: s3.peer };
}

function kind(err: unknown): string {
  if (err instanceof HandshakeError) return 'handshake';
  if (err instanceof TransportDecodeError) return 'decode';
  throw err;
}

t.test('matching secrets and addresses authenticate both sides', async (t) => {
  const r = exchange(new DialerHandshake(keys, 'n1', 'n2'), new ListenerHandshake(keys, 'n2'));
  t.equal(r.dialerPeer, 'n2');
  t.equal(r.listenerPeer, 'n1');
  t.equal(r.hello.readUInt32BE(0), r.hello.length - 4);
});

t.test('a listener with another secret is caught by the dialer', async (t) => {
  const dialer = new DialerHandshake(keys, 'n1', 'n2');
  const listener = new ListenerHandshake({ clusterId: CLUSTER, secret: OTHER_SECRET }, 'n2');
  const challenge = listener.onFrame(dialer.start()).reply!;
  t.throws(() => dialer.onFrame(challenge), HandshakeError);
});

t.test('a dialer with another secret is caught by the listener', async (t) => {
  const hello = new DialerHandshake(keys, 'n1', 'n2').start();
  const nonceC = hello.subarray(hello.length - 32);
  const nonceS = Buffer.from(randomBytes(rand, 32));
  const proofWith = (secret: Uint8Array): Buffer => {
    const proof = handshakeProof(secret, 'dialer', { clusterId: CLUSTER, from: 'n1', to: 'n2', nonceC, nonceS });
    return Buffer.concat([Buffer.of(0, 0, 0, 33, 3), proof]);
  };
  const listener = (): ListenerHandshake => {
    const l = new ListenerHandshake(keys, 'n2', nonceS);
    l.onFrame(hello);
    return l;
  };
  t.equal(listener().onFrame(proofWith(SECRET)).peer, 'n1', 'control: the right secret passes');
  t.throws(() => listener().onFrame(proofWith(OTHER_SECRET)), HandshakeError);
});

t.test('another cluster, another addressee or another version is refused at HELLO', async (t) => {
  const listener = (): ListenerHandshake => new ListenerHandshake(keys, 'n2');
  t.throws(() => listener().onFrame(new DialerHandshake({ clusterId: 'other', secret: SECRET }, 'n1', 'n2').start()), HandshakeError);
  t.throws(() => listener().onFrame(new DialerHandshake(keys, 'n1', 'n3').start()), HandshakeError);
  const hello = new DialerHandshake(keys, 'n1', 'n2').start();
  hello[5] = 2;
  t.throws(() => listener().onFrame(hello), HandshakeError);
});

t.test('a recorded handshake cannot be replayed', async (t) => {
  const recorded = exchange(new DialerHandshake(keys, 'n1', 'n2'), new ListenerHandshake(keys, 'n2'));
  const listener = new ListenerHandshake(keys, 'n2');
  const fresh = listener.onFrame(recorded.hello).reply!;
  t.not(fresh.toString('hex'), recorded.challenge.toString('hex'), 'a fresh nonceS');
  t.throws(() => listener.onFrame(recorded.proof), HandshakeError);
});

t.test("the listener's proof reflected back as the dialer's is refused", async (t) => {
  const listener = new ListenerHandshake(keys, 'n2');
  const challenge = listener.onFrame(new DialerHandshake(keys, 'n1', 'n2').start()).reply!;
  const reflected = Buffer.concat([Buffer.of(0, 0, 0, 33, 3), challenge.subarray(4 + 1 + 32)]);
  t.throws(() => listener.onFrame(reflected), HandshakeError);
});

t.test('frames out of order are refused', async (t) => {
  const dialer = new DialerHandshake(keys, 'n1', 'n2');
  const listener = new ListenerHandshake(keys, 'n2');
  const hello = dialer.start();
  t.throws(() => dialer.start(), HandshakeError, 'HELLO twice');
  t.throws(() => dialer.onFrame(hello), TransportDecodeError, 'HELLO sent to a dialer');
  const challenge = listener.onFrame(hello).reply!;
  t.throws(() => listener.onFrame(hello), TransportDecodeError, 'HELLO twice to a listener');
  const proof = dialer.onFrame(challenge).reply!;
  t.throws(() => dialer.onFrame(challenge), HandshakeError, 'CHALLENGE twice');
  t.throws(() => new ListenerHandshake(keys, 'n2').onFrame(proof), TransportDecodeError, 'PROOF before HELLO');
});

t.test('garbage at every step is refused with a typed error, never anything else', async (t) => {
  const counts = { handshake: 0, decode: 0 };
  for (let round = 0; round < 2000; round++) {
    const garbage = Buffer.from(randomBytes(rand, randomInt(rand, 0, 120)));
    if (rand() < 0.5 && garbage.length >= 5) {
      garbage.writeUInt32BE(garbage.length - 4, 0);
      garbage[4] = randomInt(rand, 1, 3);
    }
    const listener = new ListenerHandshake(keys, 'n2');
    const dialer = new DialerHandshake(keys, 'n1', 'n2');
    if (round % 2 === 0) dialer.start();
    else listener.onFrame(new DialerHandshake(keys, 'n1', 'n2').start());
    try {
      (round % 2 === 0 ? dialer : listener).onFrame(garbage);
      t.fail(`garbage accepted in round ${round}`);
    } catch (err) {
      counts[kind(err) as 'handshake' | 'decode']++;
    }
  }
  t.equal(counts.handshake + counts.decode, 2000, JSON.stringify(counts));
  // Truncations and extensions of each valid frame.
  const r = exchange(new DialerHandshake(keys, 'n1', 'n2'), new ListenerHandshake(keys, 'n2'));
  for (const [name, good, target] of [
    ['HELLO', r.hello, () => new ListenerHandshake(keys, 'n2')],
    ['PROOF', r.proof, () => { const l = new ListenerHandshake(keys, 'n2'); l.onFrame(r.hello); return l; }],
  ] as const) {
    for (let k = 0; k < good.length; k++) t.throws(() => target().onFrame(good.subarray(0, k)), `${name} cut at ${k}`);
    t.throws(() => target().onFrame(Buffer.concat([good, Buffer.of(0)])), `${name} with a trailing byte`);
  }
});

t.test('bad keys and ids are refused up front', async (t) => {
  t.throws(() => new DialerHandshake({ clusterId: CLUSTER, secret: new Uint8Array(31) }, 'n1', 'n2'), RangeError);
  t.throws(() => new DialerHandshake({ clusterId: '', secret: SECRET }, 'n1', 'n2'), RangeError);
  t.throws(() => new DialerHandshake(keys, 'bad id', 'n2'), RangeError);
  t.throws(() => new ListenerHandshake(keys, 'x'.repeat(200)), RangeError);
});
