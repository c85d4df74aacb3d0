// Helpers for the sentinel tests: fake storage nodes (a /healthz that can answer, be slow,
// hang like a stopped process, or refuse like a dead one), their registration in a real
// meta, and a meta stand-in that runs the real state machine in memory.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { MetaClient, WatchResult } from '../../src/meta/client.js';
import { apply, initialState, type ApplyResult, type Command, type MetaState } from '../../src/meta/state.js';
import type { SentinelMeta } from '../../src/sentinel/meta-link.js';
import type { Teardownable } from '../helpers/processes.js';

export const quietLog = (): Logger => pino({ level: process.env['OPERA_LOG_LEVEL'] ?? 'silent' });

export type FakeNodeMode = 'ok' | 'slow' | 'hang';

export interface FakeNode {
  readonly id: string;
  readonly url: string;
  /** Health checks answered so far. */
  readonly answered: () => number;
  /** ok: answer at once; slow: answer after `slowMs`; hang: hold every request until the mode changes. */
  setMode(mode: FakeNodeMode, slowMs?: number): void;
  /** Closes the listener and every connection: connections are refused from now on. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

export async function startFakeNode(t: Teardownable, id: string): Promise<FakeNode> {
  let mode: FakeNodeMode = 'ok';
  let slowMs = 0;
  let answered = 0;
  const held: ServerResponse[] = [];
  const answer = (res: ServerResponse): void => {
    if (res.destroyed || res.writableEnded) return;
    answered++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, id }));
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    if (req.url !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    if (mode === 'hang') held.push(res);
    else if (mode === 'slow') setTimeout(() => answer(res), slowMs);
    else answer(res);
  };
  let server: Server = createServer(handler);
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  const node: FakeNode = {
    id,
    url: `http://127.0.0.1:${port}`,
    answered: () => answered,
    setMode(next, ms = 0) {
      mode = next;
      slowMs = ms;
      if (next !== 'hang') for (const res of held.splice(0)) answer(res);
    },
    kill: close,
    async revive() {
      server = createServer(handler);
      await listen(server, port);
    },
  };
  t.teardown(async () => {
    held.splice(0).forEach((res) => res.destroy());
    if (server.listening) await close();
  });
  return node;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function joinCommand(id: string, url: string): Command {
  return {
    type: 'node-join', nodeId: id, url, publicKey: randomBytes(32).toString('base64url'), capacity: 1,
    tokenId: randomBytes(16).toString('hex'), tokenExpiresAt: Date.now() + 3_600_000,
  };
}

/** Registers fake nodes in a real meta (as the gateway would at join) and makes them up. */
export async function registerNodes(client: MetaClient, nodes: readonly { id: string; url: string }[]): Promise<void> {
  for (const n of nodes) {
    const joined = await client.command(joinCommand(n.id, n.url));
    if (!joined.ok) throw new Error(`node-join ${n.id}: ${joined.message}`);
    const up = await client.command({ type: 'node-heartbeat', nodeId: n.id });
    if (!up.ok) throw new Error(`node-heartbeat ${n.id}: ${up.message}`);
  }
}

/**
 * Completes every unfinished move (as the data plane would), so the fake nodes really
 * hold replicas: the first node to join holds everything until the join plans finish.
 */
export async function settleMoves(client: MetaClient): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const { state } = await client.state();
    const open = state.plans.filter((p) => p.state === 'active')
      .flatMap((p) => p.moves.filter((m) => m.state === 'pending' || m.state === 'copying').map((m) => ({ planId: p.id, partition: m.partition, target: m.target })));
    if (open.length === 0) return;
    for (const ref of open) {
      const done = await client.command({ type: 'move-done', ...ref });
      if (!done.ok) throw new Error(`move-done ${JSON.stringify(ref)}: ${done.message}`);
    }
  }
  throw new Error('moves did not settle');
}

export async function metaNodeState(client: MetaClient, id: string): Promise<string | undefined> {
  return (await client.state()).state.nodes[id]?.state;
}

/** A meta stand-in: the real state machine, in memory; records every command. */
export class FakeMeta implements SentinelMeta {
  current: MetaState = initialState();
  readonly commands: Command[] = [];
  /** When set, `state()` and `watch()` throw it (e.g. a refused credential). */
  failWith: Error | null = null;
  #now = 1_000_000;

  constructor(partitions = 8, replication = 2) {
    this.run({ type: 'init-cluster', clusterId: 'c', partitions, replication, repairGraceMs: 60_000 });
  }

  run(command: Command): ApplyResult {
    const out = apply(this.current, command, (this.#now += 10));
    this.current = out.state;
    return out.result;
  }

  addNode(id: string, url = `http://${id}.invalid:1`, state: 'up' | 'joining' | 'draining' = 'up'): void {
    this.run(joinCommand(id, url));
    if (state !== 'joining') this.run({ type: 'node-heartbeat', nodeId: id });
    if (state === 'draining') this.run({ type: 'node-state', nodeId: id, state: 'draining' });
  }

  async command(command: Command): Promise<ApplyResult> {
    this.commands.push(command);
    return this.run(command);
  }

  async watch(after: number, timeoutMs: number): Promise<WatchResult> {
    if (this.failWith) throw this.failWith;
    await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 30)));
    const s = this.current;
    return { version: s.version, changed: s.version > after, settings: s.settings, nodes: s.nodes, partitions: s.partitions };
  }

  async state(): Promise<{ applied: number; state: MetaState }> {
    if (this.failWith) throw this.failWith;
    return { applied: 0, state: this.current };
  }

  /** The node-state commands sent, as "node:state". */
  nodeStates(): string[] {
    return this.commands.flatMap((c) => (c.type === 'node-state' ? [`${c.nodeId}:${c.state}`] : []));
  }
}
