// A fault-injecting TCP proxy for one link: it listens on a free 127.0.0.1 port and
// forwards every connection to one target. The test can block either direction (bytes
// are held, as packets retransmitted by TCP would be, and delivered on heal), or delay
// them, preserving order. Faults apply at once to open connections and to new ones.
//
// Duplication needs message boundaries, which a byte stream does not have: a proxy made
// with `frames` reads the forward stream as u32-length-prefixed frames (meta's Raft
// transport, src/meta/transport/) and can send a whole frame twice. The first `skip`
// frames of each connection (the authentication handshake) are never duplicated. An
// HTTP stream is never duplicated: a request sent twice on one connection is not a
// retried request but a broken stream (retries are the workloads' business).
//
// A fault can also apply to the connections of one caller only, told apart by its source
// address: a storage node started with OPERA_SOURCE_ADDRESS=127.0.0.x dials its peers
// from that address, so blocking 127.0.0.x on a node's inbound proxy cuts that one
// node-to-node link while every other caller still gets through.
import { createServer, connect, type Server, type Socket } from 'node:net';

/** forward: bytes from the dialler to the target; backward: the answers. */
export type Direction = 'forward' | 'backward';

export interface LinkFault {
  readonly block: ReadonlySet<Direction>;
  readonly delayMs: number;
  /**
   * Extra delay drawn per chunk from [0, jitterMs). Order within a connection is kept (TCP
   * never reorders its own bytes), so what it reorders is requests on different
   * connections: a later one may arrive first.
   */
  readonly jitterMs?: number;
  readonly rand?: () => number;
  /** Probability that a whole forward frame is sent twice (proxies made with `frames` only). */
  readonly duplicate?: number;
}

export const NO_FAULT: LinkFault = { block: new Set(), delayMs: 0 };

/** Bytes held per connection and direction before the connection is cut (as a TCP timeout would). */
const MAX_HELD_BYTES = 32 * 1024 * 1024;

/** One direction of one connection: holds or delays chunks (and the close), keeps their order. */
class Flow {
  /** null: the sender closed; passed on in order, so a blocked link hides a crash too. */
  private held: (Buffer | null)[] = [];
  private heldBytes = 0;
  private inFlight = 0;
  private lastDue = 0;

  constructor(private readonly to: Socket, private readonly fault: () => LinkFault, private readonly dir: Direction, private readonly cut: () => void) {}

  close(): void {
    this.held.push(null);
    this.drain();
  }

  push(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_HELD_BYTES) this.cut();
    else this.drain();
  }

  /** Sends what may go now: nothing while blocked; after the delay otherwise. */
  drain(): void {
    const f = this.fault();
    if (f.block.has(this.dir)) return;
    while (this.held.length > 0) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk?.length ?? 0;
      const jitter = f.jitterMs && f.jitterMs > 0 ? Math.floor((f.rand ?? Math.random)() * f.jitterMs) : 0;
      if (f.delayMs + jitter <= 0 && this.inFlight === 0) {
        this.deliver(chunk);
        continue;
      }
      // Later chunks never overtake earlier ones.
      const due = Math.max(Date.now() + f.delayMs + jitter, this.lastDue);
      this.lastDue = due;
      this.inFlight++;
      setTimeout(() => {
        this.inFlight--;
        this.deliver(chunk);
      }, due - Date.now());
    }
  }

  private deliver(chunk: Buffer | null): void {
    if (this.to.destroyed) return;
    if (chunk === null) this.cut();
    else this.to.write(chunk);
  }
}

/** The forward stream's framing, for duplication. */
export interface FrameOptions {
  /** Frames at the start of each connection that are never duplicated (a handshake). */
  readonly skip: number;
}

/** A frame longer than this is not believed: the connection is passed through as bytes. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Cuts a byte stream into u32-length-prefixed frames (prefix included). */
class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Set when a length made no sense: everything after is passed on as it comes. */
  raw = false;
  count = 0;

  push(chunk: Buffer): Buffer[] {
    if (this.raw) return [chunk];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const size = 4 + this.buf.readUInt32BE(0);
      if (size > MAX_FRAME_BYTES) {
        this.raw = true;
        out.push(this.buf);
        this.buf = Buffer.alloc(0);
        return out;
      }
      if (this.buf.length < size) break;
      out.push(this.buf.subarray(0, size));
      this.buf = this.buf.subarray(size);
      this.count++;
    }
    return out;
  }
}

export class FaultProxy {
  private server: Server | null = null;
  private duplicatedFrames = 0;
  private readonly conns = new Set<{ client: Socket; upstream: Socket; flows: Flow[]; source: string }>();
  private current: LinkFault = NO_FAULT;
  /** Faults of one source address only, on top of `current`. */
  private readonly bySource = new Map<string, LinkFault>();
  private portNumber = 0;

  constructor(readonly name: string, private readonly target: { host: string; port: number }, private readonly frames: FrameOptions | null = null) {}

  /** Frames sent twice so far. */
  get duplicated(): number {
    return this.duplicatedFrames;
  }

  /** Listens on 127.0.0.1 (port 0: any free port); returns the port. */
  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.portNumber = (server.address() as { port: number }).port;
    return this.portNumber;
  }

  get port(): number {
    return this.portNumber;
  }

  get address(): string {
    return `127.0.0.1:${this.portNumber}`;
  }

  /** Connections open through this proxy now. */
  get connections(): number {
    return this.conns.size;
  }

  get fault(): LinkFault {
    return this.current;
  }

  /** Holds bytes in the given directions until heal. */
  block(dirs: readonly Direction[] = ['forward', 'backward']): void {
    this.set({ ...this.current, block: new Set([...this.current.block, ...dirs]) });
  }

  delay(ms: number): void {
    this.set({ ...this.current, delayMs: Math.max(0, ms) });
  }

  /** Delays each chunk by a random 0..maxMs, keeping each connection's order (see LinkFault). */
  jitter(maxMs: number, rand: () => number = Math.random): void {
    this.set({ ...this.current, jitterMs: Math.max(0, maxMs), rand });
  }

  /** Sends each forward frame after the handshake twice with this probability (a proxy made with `frames`). */
  duplicate(probability: number, rand: () => number = Math.random): void {
    if (this.frames === null) throw new Error(`proxy ${this.name} carries a byte stream: it cannot duplicate messages`);
    this.set({ ...this.current, duplicate: Math.min(1, Math.max(0, probability)), rand });
  }

  /** Holds bytes of the connections from `source` (an IP address) only, until heal. */
  blockFrom(source: string, dirs: readonly Direction[] = ['forward', 'backward']): void {
    const f = this.bySource.get(source) ?? NO_FAULT;
    this.bySource.set(source, { ...f, block: new Set([...f.block, ...dirs]) });
    this.set(this.current);
  }

  /** Delays the connections from `source` only. */
  delayFrom(source: string, ms: number): void {
    this.bySource.set(source, { ...(this.bySource.get(source) ?? NO_FAULT), delayMs: Math.max(0, ms) });
    this.set(this.current);
  }

  /** The fault a connection from `source` sees: the proxy's own plus that source's. */
  faultFor(source: string): LinkFault {
    const own = this.bySource.get(source);
    if (own === undefined) return this.current;
    return { ...this.current, block: new Set([...this.current.block, ...own.block]), delayMs: Math.max(this.current.delayMs, own.delayMs) };
  }

  /** No fault (for every source): held bytes are delivered. */
  heal(): void {
    this.bySource.clear();
    this.set(NO_FAULT);
  }

  /** Cuts every open connection (a crash on the path); new ones are accepted as usual. */
  resetConnections(): void {
    for (const c of this.conns) {
      c.client.destroy();
      c.upstream.destroy();
    }
    this.conns.clear();
  }

  async stop(): Promise<void> {
    this.resetConnections();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private set(f: LinkFault): void {
    this.current = f;
    for (const c of this.conns) for (const flow of c.flows) flow.drain();
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    const upstream = connect({ host: this.target.host, port: this.target.port });
    upstream.setNoDelay(true);
    // "::ffff:127.0.0.12" on a dual-stack socket is 127.0.0.12.
    const source = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    const conn = { client, upstream, flows: [] as Flow[], source };
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
      this.conns.delete(conn);
    };
    const fault = (): LinkFault => this.faultFor(source);
    const forward = new Flow(upstream, fault, 'forward', cut);
    const backward = new Flow(client, fault, 'backward', cut);
    conn.flows.push(forward, backward);
    this.conns.add(conn);
    const splitter = this.frames === null ? null : new FrameSplitter();
    const skip = this.frames?.skip ?? 0;
    client.on('data', (b: Buffer) => {
      if (splitter === null) return forward.push(b);
      const frames = splitter.push(b);
      // The number of the first of these frames on this connection (1 = the first one).
      const first = splitter.count - frames.length + 1;
      frames.forEach((frame, i) => {
        forward.push(frame);
        const f = this.current;
        if (!splitter.raw && first + i > skip && f.duplicate && (f.rand ?? Math.random)() < f.duplicate) {
          this.duplicatedFrames++;
          forward.push(frame);
        }
      });
    });
    upstream.on('data', (b: Buffer) => backward.push(b));
    // A closed side closes the other once the close gets through; an error is a close.
    let clientClosed = false;
    let upstreamClosed = false;
    const clientGone = (): void => {
      if (!clientClosed) {
        clientClosed = true;
        forward.close();
      }
    };
    const upstreamGone = (): void => {
      if (!upstreamClosed) {
        upstreamClosed = true;
        backward.close();
      }
    };
    client.on('error', clientGone);
    client.on('close', clientGone);
    upstream.on('error', upstreamGone);
    upstream.on('close', upstreamGone);
  }
}
