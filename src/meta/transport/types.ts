// The public shape of the Raft transport: options in, a handle out.
import type { Message } from '../../raft/types.js';

export type LogLevel = 'info' | 'warn' | 'error';
/** Injected logger; never receives secrets. */
export type TransportLog = (level: LogLevel, msg: string, fields?: object) => void;

export interface RaftTransportOptions {
  /** This member's id: inbound connections must be addressed to it. */
  readonly id: string;
  readonly clusterId: string;
  readonly host: string;
  /** 0 picks any free port; see RaftTransport.port. */
  readonly port: number;
  /** 32-byte cluster secret both sides of every connection must hold. */
  readonly secret: Uint8Array;
  /** Member id -> "host:port" ("[v6]:port" for IPv6). */
  readonly peers: ReadonlyMap<string, string>;
  /** Called with each received batch, in order per sending member. */
  readonly onMessages: (batch: Message[]) => void;
  readonly log?: TransportLog;
  /** Largest frame sent or accepted, length prefix included (default 64 MiB). */
  readonly maxFrameBytes?: number;
  /** Per-peer bound on messages waiting to be written (default 64 MiB). */
  readonly maxQueueBytes?: number;
  /** Deadline for a connection to complete its handshake (default 5 s). */
  readonly handshakeTimeoutMs?: number;
}

export interface PeerStats {
  readonly connected: boolean;
  readonly queuedBytes: number;
  /** Messages handed to the socket. */
  readonly sent: number;
  /** Messages given up on: queue overflow, oversized, malformed, or peer removed with them queued. */
  readonly dropped: number;
  /** Dials after the first. */
  readonly reconnects: number;
}

export interface TransportStats {
  readonly peers: Record<string, PeerStats>;
  /** Messages addressed to no known peer, or not from this member. */
  readonly droppedUnaddressed: number;
}

export interface RaftTransport {
  /** The port actually listened on. */
  readonly port: number;
  /** Queues messages for their `to` peers. Never throws, never blocks. */
  send(messages: readonly Message[]): void;
  /** Replaces the peer table: new peers are dialled lazily, removed ones closed, moved ones redialled. */
  setPeers(peers: ReadonlyMap<string, string>): void;
  stats(): TransportStats;
  /** Closes the listener and every connection; resolves once all are gone. */
  close(): Promise<void>;
}
