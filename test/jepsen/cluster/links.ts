// The proxied links of a Jepsen cluster: one proxy per ordered pair of meta members
// (member A dials member B's Raft port through proxy "A->B", so A's messages to B travel
// on that link only), and one inbound proxy per storage node (the URL it advertises, so
// every client, gateway, sentinel and peer reaches the node through it). Meta links know
// the Raft transport's framing, so the nemesis can duplicate whole messages on them.
//
// With the links nemesis, each node also dials its peers from a loopback address of its
// own (OPERA_SOURCE_ADDRESS), so the inbound proxy of node B can cut or delay the
// connections of node A alone (the link A->B); and each process that calls meta's API
// (the gateway, the sentinel, every node) does so through proxies of its own, one per
// meta member ("gateway=>m1"; OPERA_META_VIA), so one caller can be cut from meta.
import { FaultProxy, type FrameOptions } from '../net/proxy.js';

/** How a meta link's forward stream is framed (src/meta/transport/handshake.ts): duplication skips the handshake. */
export const META_FRAMES: FrameOptions = { skip: 2 };

export class Links {
  readonly meta = new Map<string, FaultProxy>();
  readonly nodes = new Map<string, FaultProxy>();
  /** "caller=>member": a caller's own path to one meta member's API. */
  readonly metaApi = new Map<string, FaultProxy>();
  /** The loopback address each node dials its peers from (links runs only). */
  readonly sources = new Map<string, string>();

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

  async addNode(id: string, port: number, source?: string): Promise<FaultProxy> {
    const p = new FaultProxy(id, { host: '127.0.0.1', port });
    await p.start();
    this.nodes.set(id, p);
    if (source !== undefined) this.sources.set(id, source);
    return p;
  }

  static apiKey(caller: string, member: string): string {
    return `${caller}=>${member}`;
  }

  /** A proxy from `caller` to meta member `member`'s API port. */
  async addMetaApi(caller: string, member: string, apiPort: number): Promise<FaultProxy> {
    const p = new FaultProxy(Links.apiKey(caller, member), { host: '127.0.0.1', port: apiPort });
    await p.start();
    this.metaApi.set(p.name, p);
    return p;
  }

  /** Every proxy `caller` reaches meta's API through (empty: it reaches meta directly). */
  metaApiOf(caller: string): FaultProxy[] {
    return [...this.metaApi.entries()].filter(([k]) => k.startsWith(`${caller}=>`)).map(([, p]) => p);
  }

  /** The address node `id` dials its peers from, if it has one of its own. */
  nodeSource(id: string): string | undefined {
    return this.sources.get(id);
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
    return [...new Set([...this.meta.values(), ...this.nodes.values(), ...this.metaApi.values()])];
  }

  healAll(): void {
    for (const p of this.all()) p.heal();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((p) => p.stop()));
  }
}
