// The outbound half of the transport for one peer: a bounded queue, one persistent
// authenticated TCP connection dialled lazily, and batched writes that respect the
// socket's back-pressure. Failures tear the connection down and redial with
// exponential backoff; nothing here ever blocks or throws at the caller.
import { connect, type Socket } from 'node:net';
import type { Message } from '../../raft/types.js';
import type { PeerAddress } from './address.js';
import { authenticate } from './authenticate.js';
import { encodeFrame, FRAME_OVERHEAD_BYTES } from './codec.js';
import { DialerHandshake, type HandshakeKeys } from './handshake.js';
import { SendQueue } from './send-queue.js';
import type { PeerStats, TransportLog } from './types.js';

export const BACKOFF_MIN_MS = 50;
export const BACKOFF_MAX_MS = 1000;
export const KEEPALIVE_DELAY_MS = 10_000;

export interface PeerLinkOptions {
  readonly self: string;
  readonly peer: string;
  readonly address: PeerAddress;
  readonly keys: HandshakeKeys;
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly log: TransportLog;
}

type State = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

export class PeerLink {
  #state: State = 'idle';
  #address: PeerAddress;
  #socket: Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #backoffMs = BACKOFF_MIN_MS;
  #flushScheduled = false;
  #waitingForDrain = false;
  #dials = 0;
  #sent = 0;
  #dropped = 0;
  #reconnects = 0;
  // Log a failure or overflow once per streak, not once per retry or message.
  #lastFailure = '';
  // Why the current socket failed: its first error wins, the 'close' that follows logs it.
  #failure: string | null = null;
  #overflowLogged = false;
  readonly #queue: SendQueue;

  constructor(private readonly opts: PeerLinkOptions) {
    this.#address = opts.address;
    this.#queue = new SendQueue(opts.maxQueueBytes);
  }

  /** Queues one message whose bound on encoded size is `bytes`, and gets it moving. */
  enqueue(message: Message, bytes: number): void {
    if (this.#state === 'closed') return;
    if (bytes > this.opts.maxFrameBytes - FRAME_OVERHEAD_BYTES) {
      this.drop(1, 'message larger than the frame limit', { type: message.type, bytes });
      return;
    }
    const dropped = this.#queue.push(message, bytes);
    if (dropped > 0) {
      this.#dropped += dropped;
      if (!this.#overflowLogged) {
        this.#overflowLogged = true;
        this.opts.log('warn', 'raft transport queue full, dropping oldest messages', { peer: this.opts.peer, queuedBytes: this.#queue.bytes });
      }
    }
    if (this.#state === 'idle') this.#dial();
    else this.#scheduleFlush();
  }

  /** Counts messages given up on before they reached the queue. */
  drop(count: number, reason: string, fields?: object): void {
    this.#dropped += count;
    this.opts.log('warn', `raft transport dropped a message: ${reason}`, { peer: this.opts.peer, ...fields });
  }

  setAddress(address: PeerAddress): void {
    if (address.host === this.#address.host && address.port === this.#address.port) return;
    this.#address = address;
    this.#backoffMs = BACKOFF_MIN_MS;
    if (this.#state === 'closed') return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // Forget the old socket at once so nothing more is written to it; its 'close' is ignored.
    const old = this.#socket;
    this.#socket = null;
    this.#waitingForDrain = false;
    old?.destroy();
    this.#state = 'idle';
    if (this.#queue.length > 0) this.#dial();
  }

  stats(): PeerStats {
    return {
      connected: this.#state === 'ready',
      queuedBytes: this.#queue.bytes,
      sent: this.#sent,
      dropped: this.#dropped,
      reconnects: this.#reconnects,
    };
  }

  /** Drops the queue and the connection; resolves when the socket is closed. */
  close(): Promise<void> {
    this.#state = 'closed';
    this.#dropped += this.#queue.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (!socket || socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  #dial(): void {
    this.#state = 'connecting';
    if (this.#dials++ > 0) this.#reconnects++;
    const { host, port } = this.#address;
    const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS });
    this.#socket = socket;
    this.#failure = null;
    socket.on('error', (err) => this.#failed(socket, `connection error: ${err.message}`));
    socket.on('close', () => this.#closed(socket));
    const handshake = new DialerHandshake(this.opts.keys, this.opts.self, this.opts.peer);
    authenticate(socket, handshake, this.opts.handshakeTimeoutMs).then(
      () => this.#ready(socket),
      (err: Error) => {
        this.#failed(socket, err.message);
        socket.destroy();
      },
    );
  }

  #ready(socket: Socket): void {
    if (this.#socket !== socket || this.#state !== 'connecting') {
      socket.destroy();
      return;
    }
    this.#state = 'ready';
    this.#backoffMs = BACKOFF_MIN_MS;
    this.#lastFailure = '';
    this.opts.log('info', 'raft transport connected', { peer: this.opts.peer, address: `${this.#address.host}:${this.#address.port}` });
    // The listener never speaks after the handshake: anything it sends is a protocol error.
    socket.on('data', () => {
      this.#failed(socket, 'peer sent data after the handshake');
      socket.destroy();
    });
    socket.resume();
    this.#flush();
  }

  #failed(socket: Socket, reason: string): void {
    if (this.#socket === socket) this.#failure ??= reason;
  }

  #closed(socket: Socket): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#waitingForDrain = false;
    if (this.#state === 'closed') return;
    const reason = this.#failure ?? 'connection closed';
    if (this.#state === 'ready') {
      this.opts.log('info', 'raft transport disconnected', { peer: this.opts.peer, reason });
    } else if (reason !== this.#lastFailure) {
      this.#lastFailure = reason;
      this.opts.log('warn', 'raft transport could not connect', { peer: this.opts.peer, reason });
    }
    this.#state = 'backoff';
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#state !== 'backoff') return;
      if (this.#queue.length > 0) this.#dial();
      else this.#state = 'idle';
    }, delay);
  }

  // Deferred to the end of the current turn so that separate send() calls coalesce.
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== 'ready' || this.#waitingForDrain) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const socket = this.#socket;
    while (socket && this.#state === 'ready' && !this.#waitingForDrain && this.#queue.length > 0) {
      const batch = this.#queue.take(this.opts.maxFrameBytes - FRAME_OVERHEAD_BYTES);
      let frame: Buffer;
      try {
        frame = encodeFrame(batch, this.opts.maxFrameBytes);
      } catch (err) {
        this.drop(batch.length, err instanceof Error ? err.message : String(err));
        continue;
      }
      this.#sent += batch.length;
      this.#overflowLogged = false;
      if (!socket.write(frame)) {
        this.#waitingForDrain = true;
        socket.once('drain', () => {
          if (this.#socket !== socket) return;
          this.#waitingForDrain = false;
          this.#flush();
        });
      }
    }
  }
}
