// The network transport between meta members: an authenticated listener for inbound
// batches and one queued, self-healing outbound link per peer. Raft tolerates lost
// messages, so under pressure this drops (and counts) rather than blocks or grows.
import type { Message } from '../../raft/types.js';
import { parsePeerAddress, type PeerAddress } from './address.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './authenticate.js';
import { checkMaxFrameBytes, DEFAULT_MAX_FRAME_BYTES, measureMessage } from './codec.js';
import { checkHandshakeKeys, type HandshakeKeys } from './handshake.js';
import { InboundListener } from './inbound.js';
import { PeerLink, type PeerLinkOptions } from './peer-link.js';
import type { PeerStats, RaftTransport, RaftTransportOptions, TransportLog, TransportStats } from './types.js';
import { MEMBER_ID_PATTERN } from './wire-schema.js';

export type { LogLevel, PeerStats, RaftTransport, RaftTransportOptions, TransportLog, TransportStats } from './types.js';

export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;

const silent: TransportLog = () => {};

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function parsePeers(self: string, peers: ReadonlyMap<string, string>): Map<string, PeerAddress> {
  if (!(peers instanceof Map)) throw new TypeError('peers must be a Map of member id to "host:port"');
  const out = new Map<string, PeerAddress>();
  for (const [id, address] of peers) {
    if (typeof id !== 'string' || !MEMBER_ID_PATTERN.test(id)) throw new RangeError(`peer id ${JSON.stringify(id)} is not a valid member id`);
    if (id !== self) out.set(id, parsePeerAddress(address));
  }
  return out;
}

export async function startRaftTransport(opts: RaftTransportOptions): Promise<RaftTransport> {
  if (typeof opts.id !== 'string' || !MEMBER_ID_PATTERN.test(opts.id)) throw new RangeError('id is not a valid member id');
  checkHandshakeKeys(opts);
  // A private copy: the caller may wipe its own.
  const keys: HandshakeKeys = { clusterId: opts.clusterId, secret: Uint8Array.from(opts.secret) };
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new RangeError(`port must be in [0, 65535], got ${opts.port}`);
  if (typeof opts.onMessages !== 'function') throw new TypeError('onMessages must be a function');
  const log = opts.log ?? silent;
  const maxFrameBytes = checkMaxFrameBytes(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  const maxQueueBytes = positiveInt(opts.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES, 'maxQueueBytes');
  const handshakeTimeoutMs = positiveInt(opts.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 'handshakeTimeoutMs');
  const initialPeers = parsePeers(opts.id, opts.peers);

  const inbound = new InboundListener({ self: opts.id, keys, maxFrameBytes, handshakeTimeoutMs, onMessages: opts.onMessages, log });
  const port = await inbound.listen(opts.host, opts.port);

  const links = new Map<string, PeerLink>();
  const closing: Promise<void>[] = [];
  let droppedUnaddressed = 0;
  let closed = false;
  const linkOptions = (peer: string, address: PeerAddress): PeerLinkOptions => ({
    self: opts.id, peer, address, keys, maxFrameBytes, maxQueueBytes, handshakeTimeoutMs, log,
  });

  const applyPeers = (next: ReadonlyMap<string, PeerAddress>): void => {
    for (const [id, link] of links) {
      if (!next.has(id)) {
        links.delete(id);
        closing.push(link.close());
      }
    }
    for (const [id, address] of next) {
      const link = links.get(id);
      if (link) link.setAddress(address);
      else links.set(id, new PeerLink(linkOptions(id, address)));
    }
  };
  applyPeers(initialPeers);
  const setPeers = (peers: ReadonlyMap<string, string>): void => {
    if (!closed) applyPeers(parsePeers(opts.id, peers)); // parse throws before anything changes
  };

  const sendOne = (m: Message): void => {
    const link = typeof m === 'object' && m !== null ? links.get(m.to) : undefined;
    if (!link || m.from !== opts.id) {
      droppedUnaddressed++;
      return;
    }
    let bytes: number;
    try {
      bytes = measureMessage(m);
    } catch (err) {
      link.drop(1, (err as Error).message);
      return;
    }
    link.enqueue(m, bytes);
  };

  return {
    port,
    send(messages: readonly Message[]): void {
      if (closed || !Array.isArray(messages)) return;
      for (const m of messages) {
        try {
          sendOne(m);
        } catch (err) {
          // Never reached by design; send() must not throw whatever it is given.
          droppedUnaddressed++;
          log('error', 'raft transport send failed', { error: err instanceof Error ? err.message : String(err) });
        }
      }
    },
    setPeers,
    stats(): TransportStats {
      const peers: Record<string, PeerStats> = {};
      for (const [id, link] of links) peers[id] = link.stats();
      return { peers, droppedUnaddressed };
    },
    async close(): Promise<void> {
      if (!closed) {
        closed = true;
        for (const link of links.values()) closing.push(link.close());
        links.clear();
        closing.push(inbound.close());
      }
      await Promise.all(closing);
    },
  };
}
