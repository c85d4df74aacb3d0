// The inbound half of the transport: a TCP listener whose connections must pass the
// handshake before any frame is read, and whose frames must only carry messages from
// the authenticated member to this one. Any violation closes that connection alone.
import { createServer, type Server, type Socket } from 'node:net';
import type { Message } from '../../raft/types.js';
import { authenticate } from './authenticate.js';
import { decodeFrame } from './codec.js';
import { ListenerHandshake, type HandshakeKeys } from './handshake.js';
import { KEEPALIVE_DELAY_MS } from './peer-link.js';
import type { TransportLog } from './types.js';

/** Connections allowed to be mid-handshake at once; more are refused outright. */
export const MAX_PENDING_HANDSHAKES = 128;

export interface InboundOptions {
  readonly self: string;
  readonly keys: HandshakeKeys;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly onMessages: (batch: Message[]) => void;
  readonly log: TransportLog;
}

export class InboundListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  // The newest authenticated connection of each member; an older one is closed.
  readonly #byPeer = new Map<string, Socket>();
  #pending = 0;
  #closing = false;

  constructor(private readonly opts: InboundOptions) {
    this.#server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS }, (socket) => this.#accept(socket));
  }

  /** Starts listening; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.opts.log('error', 'raft transport listener error', { error: err.message }));
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    this.#closing = true;
    return new Promise((resolve) => {
      for (const socket of this.#sockets) socket.destroy();
      if (!this.#server.listening) {
        resolve();
        return;
      }
      // Resolves once the listener and every accepted connection are closed.
      this.#server.close(() => resolve());
    });
  }

  #accept(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    let peer: string | null = null;
    socket.on('error', (err) => {
      if (peer !== null) this.opts.log('info', 'raft transport inbound connection error', { peer, error: err.message });
    });
    if (this.#pending >= MAX_PENDING_HANDSHAKES) {
      this.opts.log('warn', 'raft transport refused a connection: too many pending handshakes', { remote });
      socket.destroy();
      return;
    }
    this.#pending++;
    const handshake = new ListenerHandshake(this.opts.keys, this.opts.self);
    authenticate(socket, handshake, this.opts.handshakeTimeoutMs).then(
      ({ peer: who, reader }) => {
        this.#pending--;
        if (socket.destroyed) return;
        peer = who;
        this.opts.log('info', 'raft transport accepted a connection', { peer: who, remote });
        this.#byPeer.get(who)?.destroy();
        this.#byPeer.set(who, socket);
        socket.on('close', () => {
          if (this.#byPeer.get(who) === socket) this.#byPeer.delete(who);
        });
        reader.maxFrameBytes = this.opts.maxFrameBytes;
        const onData = (chunk: Buffer): void => {
          try {
            reader.push(chunk);
            for (let frame = reader.next(); frame !== null && !socket.destroyed; frame = reader.next()) {
              this.#deliver(who, decodeFrame(frame, this.opts.maxFrameBytes));
            }
          } catch (err) {
            this.opts.log('warn', 'raft transport closed a connection on a bad frame', { peer: who, reason: (err as Error).message });
            socket.destroy();
          }
        };
        socket.on('data', onData);
        onData(Buffer.alloc(0)); // frames pipelined behind the handshake
        socket.resume();
      },
      (err: Error) => {
        this.#pending--;
        if (!this.#closing) this.opts.log('warn', 'raft transport refused a connection', { remote, reason: err.message });
        socket.destroy();
      },
    );
  }

  #deliver(peer: string, batch: Message[]): void {
    for (const m of batch) {
      if (m.from !== peer || m.to !== this.opts.self) {
        throw new Error(`message from ${m.from} to ${m.to} on a connection authenticated as ${peer} to ${this.opts.self}`);
      }
    }
    try {
      this.opts.onMessages(batch);
    } catch (err) {
      // A bug in the receiver, not the peer's fault: keep the connection.
      this.opts.log('error', 'raft transport onMessages threw', { peer, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
