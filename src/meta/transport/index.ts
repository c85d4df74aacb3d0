// The Raft network transport between meta members.
export { startRaftTransport, DEFAULT_MAX_QUEUE_BYTES } from './transport.js';
export type { LogLevel, PeerStats, RaftTransport, RaftTransportOptions, TransportLog, TransportStats } from './types.js';
export { decodeFrame, encodeFrame, measureMessage, DEFAULT_MAX_FRAME_BYTES, FRAME_VERSION } from './codec.js';
export { FrameReader } from './frame-reader.js';
export { DialerHandshake, ListenerHandshake, HANDSHAKE_VERSION, SECRET_BYTES } from './handshake.js';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './authenticate.js';
export { HandshakeError, TransportDecodeError, TransportEncodeError } from './errors.js';
