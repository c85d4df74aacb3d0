// The meta workload: while the nemesis kills, pauses and partitions the meta leader, the
// meta group and the storage nodes change membership through the admin APIs: a new meta
// member is prepared (as `opera meta add` does), added as a learner and started (the
// leader promotes it once it caught up), a member is removed (the leader half the time)
// and stopped, leadership is transferred, and an extra storage node joins, drains and
// is removed. Meanwhile every member's /v1/meta/status and local partition map are
// sampled. Checks (checker/meta.ts): one leader per term, one primary per partition and
// epoch, and after heal every member's state equal to the leader's at the same index.
//
// New members' Raft links run through proxies too: one per ordered pair from the new
// member (it dials its peers' real ports through them, with --peer-raft), and one
// inbound proxy that everyone else dials (its recorded Raft address): a cut "x -> new"
// cuts every member's messages to it at once.
import { join } from 'node:path';
import { freePort } from '../../../src/common/ports.js';
import { loadClusterSecrets } from '../../../src/crypto/secrets.js';
import { mintToken } from '../../../src/crypto/tokens.js';
import { prepareMemberDir } from '../../../src/meta/bootstrap.js';
import type { MemberStatus } from '../../../src/meta/member.js';
import type { MetaState } from '../../../src/meta/types.js';
import { prng } from '../../helpers/prng.js';
import { canonicalJson, checkConvergence, checkLeaders, checkPrimaries, type MapSample, type StateSample, type StatusSample } from '../checker/meta.js';
import { NODE_LEASE_MS, type JepsenCluster } from '../cluster/cluster.js';
import { Links, META_FRAMES } from '../cluster/links.js';
import { FaultProxy } from '../net/proxy.js';
import type { Verdict } from '../verdicts.js';

export interface MembershipEvent {
  readonly time: number;
  readonly action: string;
  readonly target: string;
  readonly outcome: 'ok' | 'failed' | 'unknown' | 'skipped';
  readonly note?: string;
}

export interface MetaWorkloadContext {
  readonly cluster: JepsenCluster;
  readonly clock: () => number;
  readonly until: number;
  readonly seed: number;
  readonly log?: (line: string) => void;
}

const STATUS_EVERY_MS = 300;
const MAP_EVERY_ROUNDS = 2;
const ACTION_GAP_MS: [number, number] = [1500, 3500];
const OP_ATTEMPTS = 8;
const PROMOTE_WAIT_MS = 10_000;
const EXTRA_NODE = 'n4';

type Action = 'meta-add' | 'meta-remove' | 'transfer' | 'node-join' | 'node-drain' | 'node-remove';
/** The order of changes; the targets are drawn from the seed when each runs. */
const PLAN: readonly Action[] = ['meta-add', 'meta-remove', 'node-join', 'transfer', 'meta-add', 'node-drain', 'meta-remove', 'node-remove', 'transfer'];

export class MetaWorkload {
  readonly statusSamples: StatusSample[] = [];
  readonly mapSamples: MapSample[] = [];
  readonly events: MembershipEvent[] = [];
  private readonly rand: () => number;
  private readonly initial: string[];
  /** Real Raft ports of the members this workload added (the recorded address is their inbound proxy). */
  private readonly realRaft = new Map<string, string>();
  private nextMember: number;
  private nodeState: 'absent' | 'joined' | 'draining' | 'removed' = 'absent';

  constructor(private readonly ctx: MetaWorkloadContext) {
    this.rand = prng(ctx.seed * 43 + 3001);
    this.initial = [...ctx.cluster.metaIds];
    this.nextMember = this.initial.length + 1;
  }

  /** Samples and changes membership until the end of the run. */
  async run(): Promise<void> {
    await Promise.all([this.sample(), this.change()]);
  }

  private async get<T>(url: string, path: string, timeoutMs: number): Promise<T | null> {
    try {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${this.ctx.cluster.adminToken}` }, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        await res.arrayBuffer();
        return null;
      }
      return (await res.json()) as T;
    } catch {
      return null;
    }
  }

  private live(): { id: string; url: string }[] {
    return this.ctx.cluster.metaIds.flatMap((id) => {
      const rec = this.ctx.cluster.processes.get(id);
      return rec && rec.proc !== null && !rec.paused ? [{ id, url: rec.url }] : [];
    });
  }

  private async sampleOnce(withMap: boolean): Promise<void> {
    await Promise.all(this.live().map(async ({ id, url }) => {
      const s = await this.get<MemberStatus>(url, '/v1/meta/status', 1000);
      if (s !== null) this.statusSamples.push({ time: this.ctx.clock(), member: id, role: s.role, term: s.term });
      if (!withMap) return;
      const st = await this.get<{ applied: number; state: MetaState }>(url, '/v1/meta/state?consistency=local', 1500);
      if (st !== null) {
        this.mapSamples.push({ time: this.ctx.clock(), member: id, applied: st.applied, partitions: st.state.partitions.map((p) => ({ epoch: p.epoch, primary: p.primary })) });
      }
    }));
  }

  private async sample(): Promise<void> {
    for (let round = 0; round < 1_000_000 && this.ctx.clock() < this.ctx.until; round++) {
      await this.sampleOnce(round % MAP_EVERY_ROUNDS === 0);
      await sleep(STATUS_EVERY_MS);
    }
  }

  private record(action: string, target: string, outcome: MembershipEvent['outcome'], note?: string): void {
    this.events.push({ time: this.ctx.clock(), action, target, outcome, ...(note ? { note } : {}) });
    this.ctx.log?.(`meta workload: ${action} ${target}: ${outcome}${note ? ` (${note})` : ''}`);
  }

  private async change(): Promise<void> {
    for (let i = 0; this.ctx.clock() < this.ctx.until; i++) {
      await sleep(ACTION_GAP_MS[0] + this.rand() * (ACTION_GAP_MS[1] - ACTION_GAP_MS[0]));
      if (this.ctx.clock() >= this.ctx.until) break;
      const action = PLAN[i % PLAN.length]!;
      try {
        await this.act(action);
      } catch (err) {
        this.record(action, '-', 'failed', (err as Error).message);
      }
    }
  }

  /** Runs an admin call until it succeeds; a refusal after an attempt whose outcome was lost may mean it was done. */
  private async attempt(action: string, target: string, call: () => Promise<unknown>, doneAlready?: (err: Error) => boolean): Promise<MembershipEvent['outcome']> {
    let lost = false;
    let last = '';
    for (let i = 0; i < OP_ATTEMPTS && this.ctx.clock() < this.ctx.until + 10_000; i++) {
      try {
        await call();
        this.record(action, target, 'ok', i > 0 ? `after ${i + 1} attempts` : undefined);
        return 'ok';
      } catch (err) {
        const e = err as Error & { status?: number };
        last = e.message;
        if (e.status !== undefined && e.status < 500 && e.status !== 429) {
          if (lost && doneAlready?.(e)) {
            this.record(action, target, 'ok', `an earlier attempt did it: ${last}`);
            return 'ok';
          }
          this.record(action, target, 'failed', last);
          return 'failed';
        }
        lost = true;
      }
      await sleep(500 + 250 * i);
    }
    this.record(action, target, 'unknown', last);
    return 'unknown';
  }

  private async leaderStatus(): Promise<MemberStatus | null> {
    for (const { url } of this.live()) {
      const s = await this.get<MemberStatus>(url, '/v1/meta/status', 1000);
      if (s?.role === 'leader') return s;
    }
    return null;
  }

  private async act(action: Action): Promise<void> {
    const c = this.ctx.cluster;
    switch (action) {
      case 'meta-add':
        if (c.metaIds.length > this.initial.length) return this.record(action, '-', 'skipped', 'the group is one above its size already');
        return this.addMember();
      case 'meta-remove': {
        if (c.metaIds.length <= this.initial.length) return this.record(action, '-', 'skipped', 'the group is at its size');
        const status = await this.leaderStatus();
        if (status === null) return this.record(action, '-', 'skipped', 'no leader to ask');
        if (status.members.some((m) => m.role !== 'voter')) return this.record(action, '-', 'skipped', 'a learner is still catching up');
        // Keep two of the first members: the gateway, nodes and sentinel were given their addresses.
        const originals = c.metaIds.filter((id) => this.initial.includes(id));
        const candidates = c.metaIds.filter((id) => !(originals.length <= 2 && this.initial.includes(id)));
        const target = this.rand() < 0.5 && candidates.includes(status.id) ? status.id : candidates[Math.floor(this.rand() * candidates.length)];
        if (target === undefined) return this.record(action, '-', 'skipped', 'no member may go');
        const outcome = await this.attempt(action, target === status.id ? `${target} (the leader)` : target, () => c.meta.members('remove', { id: target }), (e) => /not a member|unknown member|no member/i.test(e.message));
        // Stopped only once it is out of the group (a lost answer may hide a removal that happened).
        const after = outcome === 'ok' ? null : await this.leaderStatus();
        if (outcome === 'ok' || (after !== null && !after.members.some((m) => m.id === target))) await c.dropProcess(target);
        return;
      }
      case 'transfer': {
        const status = await this.leaderStatus();
        const voters = status?.members.filter((m) => m.role === 'voter' && m.id !== status.id) ?? [];
        const to = voters[Math.floor(this.rand() * voters.length)];
        if (status === null || to === undefined) return this.record(action, '-', 'skipped', 'no leader or no other voter');
        await this.attempt(action, `${status.id} -> ${to.id}`, () => c.meta.members('transfer', { id: to.id }));
        return;
      }
      case 'node-join':
        if (this.nodeState !== 'absent') return this.record(action, EXTRA_NODE, 'skipped', `the extra node is ${this.nodeState}`);
        return this.joinNode();
      case 'node-drain':
        if (this.nodeState !== 'joined') return this.record(action, EXTRA_NODE, 'skipped', `the extra node is ${this.nodeState}`);
        if ((await this.attempt(action, EXTRA_NODE, () => this.nodeCommand('draining'), (e) => /same state/i.test(e.message))) === 'ok') this.nodeState = 'draining';
        return;
      case 'node-remove':
        if (this.nodeState !== 'draining') return this.record(action, EXTRA_NODE, 'skipped', `the extra node is ${this.nodeState}`);
        if ((await this.attempt(action, EXTRA_NODE, () => this.nodeCommand('removed'), (e) => /removed/i.test(e.message))) === 'ok') {
          this.nodeState = 'removed';
          await c.dropProcess(EXTRA_NODE);
        }
        return;
    }
  }

  private async nodeCommand(state: 'draining' | 'removed'): Promise<void> {
    const r = await this.ctx.cluster.meta.command({ type: 'node-state', nodeId: EXTRA_NODE, state });
    if (!r.ok) throw Object.assign(new Error(`${r.code}: ${r.message}`), { status: 400 });
  }

  private async addMember(): Promise<void> {
    const c = this.ctx.cluster;
    const id = `m${this.nextMember++}`;
    const status = await this.leaderStatus();
    if (status === null) return this.record('meta-add', id, 'skipped', 'no leader to ask');
    const known = status.members.filter((m) => m.url && m.raft).map((m) => ({ id: m.id, api: new URL(m.url!).host, raft: m.raft! }));
    const apiPort = await freePort();
    const raftPort = await freePort();
    const inbound = new FaultProxy(`*->${id}`, { host: '127.0.0.1', port: raftPort }, META_FRAMES);
    await inbound.start();
    // Everyone dials the new member's recorded address: its inbound proxy.
    for (const m of known) c.links.meta.set(Links.metaKey(m.id, id), inbound);
    const peerRaft: string[] = [];
    for (const m of known) {
      const real = this.realRaft.get(m.id) ?? m.raft;
      const out = await c.links.addMeta(id, m.id, Number(real.slice(real.lastIndexOf(':') + 1)));
      peerRaft.push(`${m.id}=${out.address}`);
    }
    this.realRaft.set(id, `127.0.0.1:${raftPort}`);
    const api = `127.0.0.1:${apiPort}`;
    // The directory records the real Raft port (the member listens there); the group records the proxy.
    const dir = await prepareMemberDir(c.metaDir, { id, api, raft: `127.0.0.1:${raftPort}` }, known);
    const outcome = await this.attempt('meta-add', id, () => c.meta.members('add', { id, api, raft: inbound.address }), (e) => /already|exists/i.test(e.message));
    if (outcome === 'failed') return;
    c.addProcess('meta', id, `http://${api}`, ['meta', 'start', '--dir', dir, '--no-fsync', '--peer-raft', peerRaft.join(',')]);
    const deadline = this.ctx.clock() + PROMOTE_WAIT_MS;
    while (this.ctx.clock() < deadline) {
      const s = await this.leaderStatus();
      if (s?.members.some((m) => m.id === id && m.role === 'voter')) return this.record('meta-promoted', id, 'ok');
      await sleep(500);
    }
    this.record('meta-promoted', id, 'unknown', `not a voter after ${PROMOTE_WAIT_MS / 1000} s`);
  }

  private async joinNode(): Promise<void> {
    const c = this.ctx.cluster;
    const port = await freePort();
    const proxy = await c.links.addNode(EXTRA_NODE, port);
    const secrets = await loadClusterSecrets(join(c.metaDir, 'secrets.json'));
    const now = Math.floor(Date.now() / 1000);
    const joinToken = mintToken(secrets.authority, { role: 'join', sub: EXTRA_NODE, iat: now - 5, exp: now + 600 });
    const args = ['node', 'start', '--listen', `127.0.0.1:${port}`, '--advertise', `http://${proxy.address}`, '--dir', join(c.dir, 'nodes', EXTRA_NODE),
      '--lease-ms', String(NODE_LEASE_MS), '--heartbeat-ms', '1000', '--no-fsync'];
    c.addProcess('node', EXTRA_NODE, `http://${proxy.address}`, args, [...args, '--gateway', c.gateway, '--join-token', joinToken, '--id', EXTRA_NODE]);
    const deadline = this.ctx.clock() + PROMOTE_WAIT_MS;
    while (this.ctx.clock() < deadline) {
      const state = await c.metaState();
      if (state?.nodes[EXTRA_NODE] !== undefined) {
        this.nodeState = 'joined';
        return this.record('node-join', EXTRA_NODE, 'ok', `state ${state.nodes[EXTRA_NODE].state}`);
      }
      await sleep(500);
    }
    // A join that never reached meta: the node keeps trying with its single-use token.
    this.record('node-join', EXTRA_NODE, 'unknown', 'not in meta yet');
  }

  /** After heal: every member's state against the leader's at common indexes, and the checks on the samples. */
  async verdicts(timeoutMs = 20_000): Promise<Verdict[]> {
    const c = this.ctx.cluster;
    const states: StateSample[] = [];
    let outcome = checkConvergence('-', [], []);
    const deadline = this.ctx.clock() + timeoutMs;
    let leader: string | null = null;
    while (this.ctx.clock() < deadline) {
      leader ??= await c.metaLeader();
      const members = this.live();
      await Promise.all(members.map(async ({ id, url }) => {
        const st = await this.get<{ applied: number; state: MetaState }>(url, '/v1/meta/state?consistency=local', 2000);
        if (st !== null) states.push({ member: id, applied: st.applied, state: canonicalJson(st.state) });
      }));
      if (leader !== null) {
        outcome = checkConvergence(leader, c.metaIds, states);
        if (outcome.valid !== 'unknown') break;
      }
      await sleep(100);
    }
    const leaders = checkLeaders(this.statusSamples);
    const primaries = checkPrimaries(this.mapSamples);
    const changes = this.events.filter((e) => e.outcome === 'ok').map((e) => `${e.action} ${e.target}`);
    return [
      { check: 'meta one leader per term', valid: leaders.valid, detail: leaders.detail },
      { check: 'meta one primary per partition epoch', valid: primaries.valid, detail: primaries.detail },
      { check: 'meta members converge', valid: outcome.valid, detail: `${outcome.detail}; changes made: ${changes.join(', ') || 'none'}` },
    ];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
