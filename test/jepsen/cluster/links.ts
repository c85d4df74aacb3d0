// The proxied links of a Jepsen cluster: one proxy per ordered pair of meta members
// (member A dials member B's Raft port through proxy "A->B", so A's messages to B travel
// on that link only), and one inbound proxy per storage node (the URL it advertises, so
// every client, gateway, sentinel and peer reaches the node through it). Meta links know
// the Raft transport's framing, so the nemesis can duplicate whole messages on them.
import { FaultProxy, type FrameOptions } from '../net/proxy.js';

/** How a meta link's forward stream is framed (src/meta/transport/handshake.ts): duplication skips the handshake. */
export const META_FRAMES: FrameOptions = { skip: 2 };

export class Links {
  readonly meta = new Map<string, FaultProxy>();
  readonly nodes = new Map<string, FaultProxy>();

  static metaKey(from: string, to: string): string {
    return `${from}->${to}`;
  }

  async addMeta(from: string, to: string, raftPort: number): Promise<FaultProxy> {
    // Raft frames: the first two a dialler sends (HELLO, PROOF) are the handshake.
    const p = new FaultProxy(Links.metaKey(from, to), { host: '127.0.0.1', port: raftPort }, META_FRAMES);
    await p.start();
    this.meta.set(p.name, p);
    return p;
  }

  async addNode(id: string, port: number): Promise<FaultProxy> {
    const p = new FaultProxy(id, { host: '127.0.0.1', port });
    await p.start();
    this.nodes.set(id, p);
    return p;
  }

  metaLink(from: string, to: string): FaultProxy {
    const p = this.meta.get(Links.metaKey(from, to));
    if (p === undefined) throw new Error(`no meta link ${from}->${to}`);
    return p;
  }

  nodeLink(id: string): FaultProxy {
    const p = this.nodes.get(id);
    if (p === undefined) throw new Error(`no node link ${id}`);
    return p;
  }

  all(): FaultProxy[] {
    return [...this.meta.values(), ...this.nodes.values()];
  }

  healAll(): void {
    for (const p of this.all()) p.heal();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((p) => p.stop()));
  }
}
