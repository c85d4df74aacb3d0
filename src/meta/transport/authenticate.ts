// Runs a handshake state machine over a socket, under a deadline. On success the
// socket is left paused, with any bytes that followed the handshake (a dialer may
// pipeline message frames right behind its proof) still in the returned reader.
// The caller owns the socket: it must already handle 'error', and it destroys the
// socket when this rejects.
import type { Socket } from 'node:net';
import { HandshakeError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { HANDSHAKE_MAX_FRAME_BYTES, type HandshakeMachine } from './handshake.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

export interface Authenticated {
  /** The member on the other end, as proven by the handshake. */
  readonly peer: string;
  /** Holds whatever arrived after the handshake; raise its limit before reading on. */
  readonly reader: FrameReader;
}

export function authenticate(socket: Socket, machine: HandshakeMachine, timeoutMs: number): Promise<Authenticated> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(HANDSHAKE_MAX_FRAME_BYTES);
    let settled = false;
    const finish = (err: Error | null, peer?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      if (err) {
        reject(err);
      } else {
        socket.pause();
        resolve({ peer: peer!, reader });
      }
    };
    const onData = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
        while (!settled) {
          const f = reader.next();
          if (f === null) break;
          const step = machine.onFrame(f);
          if (step.reply) socket.write(step.reply);
          if (step.peer !== null) finish(null, step.peer);
        }
      } catch (err) {
        finish(err instanceof Error ? err : new HandshakeError(String(err)));
      }
    };
    const onClose = (): void => finish(new HandshakeError('connection closed during the handshake'));
    const timer = setTimeout(() => finish(new HandshakeError(`handshake not completed within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('end', onClose);
    try {
      const first = machine.start();
      if (first) socket.write(first);
    } catch (err) {
      finish(err instanceof Error ? err : new HandshakeError(String(err)));
    }
  });
}
