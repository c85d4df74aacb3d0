// Typed failures of the Raft transport. A caller that sees one of these closes the
// connection it came from; neither ever takes the process down.

/** A frame (or handshake message) that is malformed, oversized or of an unknown version. */
export class TransportDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportDecodeError';
  }
}

/** A peer that failed authentication: wrong secret, cluster, addressee or protocol step. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/** An outgoing message that no receiver would accept, or a batch too big for one frame. */
export class TransportEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportEncodeError';
  }
}
