// Mutual authentication of a Raft connection by HMAC-SHA256 challenge-response over a
// shared cluster secret. Both sides contribute a fresh 32-byte nonce, so a recorded
// handshake cannot be replayed, and the proofs carry distinct role labels, so one
// side's proof is never valid as the other's. Pure state machines: no sockets here.
//
//   dialer -> listener  HELLO      version, clusterId, from, to, nonceC
//   listener -> dialer  CHALLENGE  nonceS, proofS = HMAC(secret, "listener" | transcript)
//   dialer -> listener  PROOF      proofC = HMAC(secret, "dialer" | transcript)
// Each is a u32-length-prefixed frame; see docs/transport.md for the bytes.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HandshakeError, TransportDecodeError } from './errors.js';
import { MEMBER_ID_PATTERN } from './wire-schema.js';

export const HANDSHAKE_VERSION = 1;
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;
export const SECRET_BYTES = 32;
/** Handshake frames are tiny; anything longer is refused before it is buffered. */
export const HANDSHAKE_MAX_FRAME_BYTES = 1024;
const MAX_CLUSTER_ID_BYTES = 255;

const HELLO = 1;
const CHALLENGE = 2;
const PROOF = 3;

export interface HandshakeKeys {
  readonly clusterId: string;
  readonly secret: Uint8Array;
}

/** What one handshake step produced: a frame to write back, and the peer once authenticated. */
export interface HandshakeStep {
  readonly reply: Buffer | null;
  readonly peer: string | null;
}

export interface HandshakeMachine {
  /** The frame to send first, if this side speaks first. */
  start(): Buffer | null;
  /** Consumes one received frame; throws HandshakeError or TransportDecodeError. */
  onFrame(frame: Buffer): HandshakeStep;
}

export function checkHandshakeKeys(keys: HandshakeKeys): void {
  if (!(keys.secret instanceof Uint8Array) || keys.secret.byteLength !== SECRET_BYTES) {
    throw new RangeError(`the cluster secret must be ${SECRET_BYTES} bytes`);
  }
  const n = typeof keys.clusterId === 'string' ? Buffer.byteLength(keys.clusterId) : 0;
  if (n === 0 || n > MAX_CLUSTER_ID_BYTES) {
    throw new RangeError(`the cluster id must be a string of 1-${MAX_CLUSTER_ID_BYTES} bytes`);
  }
}

function checkMember(id: string, what: string): void {
  if (typeof id !== 'string' || !MEMBER_ID_PATTERN.test(id)) throw new RangeError(`${what} is not a valid member id`);
}

function frame(body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const out = Buffer.allocUnsafe(4 + payload.byteLength);
  out.writeUInt32BE(payload.byteLength, 0);
  payload.copy(out, 4);
  return out;
}

function shortString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.of(bytes.byteLength), bytes]);
}

/** Reads a handshake frame of one kind: checks the prefix, the kind byte and the exact size. */
class HandshakeCursor {
  #at = 5;
  constructor(private readonly buf: Buffer, kind: number, what: string) {
    if (buf.byteLength < 5 || buf.readUInt32BE(0) !== buf.byteLength - 4) throw new TransportDecodeError(`malformed ${what}`);
    if (buf[4] !== kind) throw new TransportDecodeError(`expected ${what}, got message kind ${buf[4]}`);
  }
  bytes(n: number, what: string): Buffer {
    if (this.#at + n > this.buf.byteLength) throw new TransportDecodeError(`truncated ${what}`);
    const out = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  u8(what: string): number {
    return this.bytes(1, what)[0]!;
  }
  string(what: string): string {
    const bytes = this.bytes(this.u8(what), what);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new TransportDecodeError(`${what} is not valid UTF-8`);
    }
  }
  end(what: string): void {
    if (this.#at !== this.buf.byteLength) throw new TransportDecodeError(`trailing bytes after ${what}`);
  }
}

interface Transcript {
  readonly clusterId: string;
  readonly from: string;
  readonly to: string;
  readonly nonceC: Buffer;
  readonly nonceS: Buffer;
}

/** HMAC over an unambiguous (length-prefixed) encoding of the whole handshake. */
export function handshakeProof(secret: Uint8Array, role: 'listener' | 'dialer', t: Transcript): Buffer {
  return createHmac('sha256', secret)
    .update(`space-opera raft ${role}\0`)
    .update(Buffer.of(HANDSHAKE_VERSION))
    .update(shortString(t.clusterId))
    .update(shortString(t.from))
    .update(shortString(t.to))
    .update(t.nonceC)
    .update(t.nonceS)
    .digest();
}

function sameProof(a: Buffer, b: Buffer): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** The side that opened the connection: it names itself and the member it wants. */
export class DialerHandshake implements HandshakeMachine {
  #state: 'new' | 'sent-hello' | 'done' = 'new';
  readonly #nonceC: Buffer;

  constructor(private readonly keys: HandshakeKeys, private readonly from: string, private readonly to: string, nonce?: Buffer) {
    checkHandshakeKeys(keys);
    checkMember(from, 'from');
    checkMember(to, 'to');
    this.#nonceC = nonce ?? randomBytes(NONCE_BYTES);
  }

  start(): Buffer {
    if (this.#state !== 'new') throw new HandshakeError('handshake already started');
    this.#state = 'sent-hello';
    return frame([
      Buffer.of(HELLO, HANDSHAKE_VERSION), shortString(this.keys.clusterId), shortString(this.from), shortString(this.to), this.#nonceC,
    ]);
  }

  onFrame(buf: Buffer): HandshakeStep {
    if (this.#state !== 'sent-hello') throw new HandshakeError('unexpected handshake frame');
    const c = new HandshakeCursor(buf, CHALLENGE, 'CHALLENGE');
    const nonceS = c.bytes(NONCE_BYTES, 'nonceS');
    const proofS = c.bytes(PROOF_BYTES, 'proofS');
    c.end('CHALLENGE');
    const t: Transcript = { clusterId: this.keys.clusterId, from: this.from, to: this.to, nonceC: this.#nonceC, nonceS };
    if (!sameProof(proofS, handshakeProof(this.keys.secret, 'listener', t))) {
      throw new HandshakeError(`listener failed to prove it is ${this.to} of cluster ${this.keys.clusterId} (wrong secret or cluster)`);
    }
    this.#state = 'done';
    return { reply: frame([Buffer.of(PROOF), handshakeProof(this.keys.secret, 'dialer', t)]), peer: this.to };
  }
}

/** The accepting side: it answers only a HELLO addressed to itself in its own cluster. */
export class ListenerHandshake implements HandshakeMachine {
  #state: 'wait-hello' | 'wait-proof' | 'done' = 'wait-hello';
  readonly #nonceS: Buffer;
  #transcript: Transcript | null = null;

  constructor(private readonly keys: HandshakeKeys, private readonly self: string, nonce?: Buffer) {
    checkHandshakeKeys(keys);
    checkMember(self, 'self');
    this.#nonceS = nonce ?? randomBytes(NONCE_BYTES);
  }

  start(): null {
    return null;
  }

  onFrame(buf: Buffer): HandshakeStep {
    if (this.#state === 'wait-hello') return this.#onHello(buf);
    if (this.#state === 'wait-proof') return this.#onProof(buf);
    throw new HandshakeError('unexpected handshake frame');
  }

  #onHello(buf: Buffer): HandshakeStep {
    const c = new HandshakeCursor(buf, HELLO, 'HELLO');
    const version = c.u8('version');
    if (version !== HANDSHAKE_VERSION) throw new HandshakeError(`unsupported handshake version ${version}`);
    const clusterId = c.string('clusterId');
    const from = c.string('from');
    const to = c.string('to');
    const nonceC = c.bytes(NONCE_BYTES, 'nonceC');
    c.end('HELLO');
    if (clusterId !== this.keys.clusterId) throw new HandshakeError('dialer belongs to another cluster');
    if (!MEMBER_ID_PATTERN.test(from)) throw new HandshakeError('dialer gave an invalid member id');
    if (to !== this.self) throw new HandshakeError(`connection addressed to another member (${MEMBER_ID_PATTERN.test(to) ? to : 'invalid id'})`);
    this.#transcript = { clusterId, from, to, nonceC: Buffer.from(nonceC), nonceS: this.#nonceS };
    this.#state = 'wait-proof';
    const proofS = handshakeProof(this.keys.secret, 'listener', this.#transcript);
    return { reply: frame([Buffer.of(CHALLENGE), this.#nonceS, proofS]), peer: null };
  }

  #onProof(buf: Buffer): HandshakeStep {
    const c = new HandshakeCursor(buf, PROOF, 'PROOF');
    const proofC = c.bytes(PROOF_BYTES, 'proofC');
    c.end('PROOF');
    const t = this.#transcript!;
    if (!sameProof(proofC, handshakeProof(this.keys.secret, 'dialer', t))) {
      throw new HandshakeError(`dialer failed to prove it is ${t.from} (wrong secret)`);
    }
    this.#state = 'done';
    return { reply: null, peer: t.from };
  }
}
