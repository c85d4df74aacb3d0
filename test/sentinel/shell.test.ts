// The sentinel's shell against a meta stand-in (the real state machine, in memory), the
// in-memory LiveStore and an injected probe: what it submits, when it holds back, how it
// fails closed, and its HTTP listener (heartbeats, metrics).
import t, { type Test } from 'tap';
import { generateAuthority } from '../../src/crypto/secrets.js';
import { mintToken, type Role } from '../../src/crypto/tokens.js';
import { LiveStoreUnavailableError, MemoryLiveStore, type LiveStore } from '../../src/gateway/live-store/index.js';
import { MetaClientError } from '../../src/meta/client.js';
import type { ProbeFn, ProbeResult } from '../../src/sentinel/probe.js';
import { Sentinel, type SentinelSettings } from '../../src/sentinel/sentinel.js';
import { startSentinelServer } from '../../src/sentinel/server.js';
import { eventually } from '../helpers/processes.js';
import { FakeMeta, quietLog } from './helpers.js';

const SETTINGS: SentinelSettings = {
  intervalMs: 20, timeoutMs: 10, suspectAfterMisses: 2, recoverAfterSuccesses: 2, downAfterMs: 150, minStateMs: 0, quorum: 1, refreshMs: 40,
};

/** A probe whose answer per node the test sets; unknown nodes answer. */
function scriptedProbe(): { probe: ProbeFn; set(node: string, r: 'ok' | 'refused' | 'timeout'): void } {
  const modes = new Map<string, 'ok' | 'refused' | 'timeout'>();
  return {
    probe: async (nodeId): Promise<ProbeResult> => {
      const mode = modes.get(nodeId) ?? 'ok';
      return mode === 'ok' ? { ok: true, latencyMs: 1 } : { ok: false, reason: mode, detail: mode };
    },
    set: (node, r) => modes.set(node, r),
  };
}

async function sentinel(t: Test, meta: FakeMeta, probe: ProbeFn, opts: { id?: string; liveStore?: LiveStore; settings?: Partial<SentinelSettings> } = {}): Promise<Sentinel> {
  const s = new Sentinel({
    id: opts.id ?? 's1', meta, liveStore: opts.liveStore ?? new MemoryLiveStore(), settings: { ...SETTINGS, ...opts.settings }, log: quietLog(), probe,
  });
  await s.start();
  t.teardown(() => s.stop());
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a dead node: suspect, then down (with a repair plan), once; back up when it answers', async (t) => {
  const meta = new FakeMeta(8, 2);
  for (const id of ['n1', 'n2', 'n3']) meta.addNode(id);
  const p = scriptedProbe();
  const s = await sentinel(t, meta, p.probe);
  await sleep(100);
  t.same(meta.nodeStates(), [], 'healthy nodes: nothing to say');
  p.set('n2', 'refused');
  await eventually('n2 down in meta', async () => (meta.current.nodes['n2']!.state === 'down' ? true : undefined), 5000, 10);
  t.same(meta.nodeStates(), ['n2:suspect', 'n2:down']);
  const plan = meta.current.plans.find((x) => x.reason === 'node-down' && x.node === 'n2');
  t.ok(plan, 'meta planned the repair');
  await sleep(300);
  t.same(meta.nodeStates(), ['n2:suspect', 'n2:down'], 'no repeats while nothing changes');
  t.equal(s.metrics.submissions.get('down/ok'), 1);
  p.set('n2', 'ok');
  await eventually('n2 up in meta', async () => (meta.current.nodes['n2']!.state === 'up' ? true : undefined), 5000, 10);
  t.same(meta.nodeStates(), ['n2:suspect', 'n2:down', 'n2:up']);
  t.same(s.nodes().map((n) => `${n.id}:${n.health}`), ['n1:up', 'n2:up', 'n3:up']);
});

t.test('a slow node (timeouts) is down just as a dead one', async (t) => {
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  const p = scriptedProbe();
  await sentinel(t, meta, p.probe);
  p.set('n1', 'timeout');
  await eventually('n1 down', async () => (meta.current.nodes['n1']!.state === 'down' ? true : undefined), 5000, 10);
  t.same(meta.nodeStates(), ['n1:suspect', 'n1:down']);
});

t.test('draining and joining nodes that fail go straight to down', async (t) => {
  const meta = new FakeMeta(8, 2);
  meta.addNode('n1');
  meta.addNode('n2');
  meta.addNode('n3', undefined, 'draining');
  meta.addNode('n4', undefined, 'joining');
  const p = scriptedProbe();
  await sentinel(t, meta, p.probe);
  await sleep(100);
  t.same(meta.nodeStates(), [], 'a healthy joining node is left to its own heartbeat, a draining one to its drain');
  p.set('n3', 'refused');
  p.set('n4', 'refused');
  await eventually('both down', async () => (meta.current.nodes['n3']!.state === 'down' && meta.current.nodes['n4']!.state === 'down' ? true : undefined), 5000, 10);
  t.same(meta.nodeStates().sort(), ['n3:down', 'n4:down']);
  p.set('n3', 'ok');
  await eventually('n3 up again', async () => (meta.current.nodes['n3']!.state === 'up' ? true : undefined), 5000, 10);
});

t.test('a sentinel that starts while meta has a node down brings it back only once it answers', async (t) => {
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  meta.run({ type: 'node-state', nodeId: 'n2', state: 'down' });
  const p = scriptedProbe();
  p.set('n2', 'refused');
  const s = await sentinel(t, meta, p.probe);
  await sleep(200);
  t.same(meta.nodeStates(), [], 'still dead: nothing to say');
  t.equal(s.nodes().find((n) => n.id === 'n2')?.health, 'down', 'started from meta\'s word');
  p.set('n2', 'ok');
  await eventually('n2 up', async () => (meta.current.nodes['n2']!.state === 'up' ? true : undefined), 5000, 10);
  t.same(meta.nodeStates(), ['n2:up']);
});

t.test('refusals are not fought: the sentinel re-reads meta and holds back', async (t) => {
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  const p = scriptedProbe();
  // Meta refuses every node-state (as if another rule forbade it).
  const original = meta.command.bind(meta);
  meta.command = async (c) => {
    if (c.type !== 'node-state') return original(c);
    meta.commands.push(c);
    return { ok: false, code: 'bad-transition', message: 'refused for the test' };
  };
  const s = await sentinel(t, meta, p.probe);
  p.set('n2', 'refused');
  await sleep(1000);
  const sent = meta.nodeStates().length;
  t.ok(sent >= 1, `tried (${sent} times)`);
  // A repeat of the same command waits max(refresh, 3 intervals) = 60 ms: about 16 in a second at most.
  t.ok(sent <= 20, `held back (${sent} commands in 1 s)`);
  t.ok((s.metrics.submissions.get('suspect/refused') ?? 0) >= 1);
});

t.test('LiveStore down: no decisions at all (fail closed), until it answers again', async (t) => {
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  const store = new MemoryLiveStore();
  let broken = true;
  const flaky = new Proxy(store, {
    get(target, prop) {
      if (prop === 'reportObservation' && broken) return () => Promise.reject(new LiveStoreUnavailableError('redis is down'));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const p = scriptedProbe();
  p.set('n2', 'refused');
  const s = await sentinel(t, meta, p.probe, { liveStore: flaky });
  await sleep(500);
  t.same(meta.nodeStates(), [], 'no node-state without observations');
  t.equal(s.nodes().find((n) => n.id === 'n2')?.health, 'down', 'yet this sentinel sees it down');
  t.ok(s.metrics.liveStoreErrors > 0);
  broken = false;
  await eventually('n2 down', async () => (meta.current.nodes['n2']!.state === 'down' ? true : undefined), 5000, 10);
});

t.test('quorum 2: one sentinel cut off from a node does nothing; two agree', async (t) => {
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  const store = new MemoryLiveStore();
  const a = scriptedProbe();
  const b = scriptedProbe();
  const sa = await sentinel(t, meta, a.probe, { id: 'sa', liveStore: store, settings: { quorum: 2 } });
  const sb = await sentinel(t, meta, b.probe, { id: 'sb', liveStore: store.peer(), settings: { quorum: 2 } });
  a.set('n2', 'refused');
  await sleep(600);
  t.same(meta.nodeStates(), [], 'one sentinel alone: neither suspect nor down');
  t.same((await store.observations('n2')).map((o) => `${o.sentinelId}:${o.state}`), ['sa:down', 'sb:up']);
  b.set('n2', 'refused');
  await eventually('n2 down', async () => (meta.current.nodes['n2']!.state === 'down' ? true : undefined), 5000, 10);
  await sleep(200);
  const accepted = (sa.metrics.submissions.get('down/ok') ?? 0) + (sb.metrics.submissions.get('down/ok') ?? 0);
  t.equal(accepted, 1, 'meta accepted it once (a second submission is refused as already down)');
});

t.test('a credential meta refuses stops the start', async (t) => {
  const meta = new FakeMeta();
  meta.failWith = new MetaClientError('role "client" may not call GET /v1/meta/state', 403, 'forbidden');
  const s = new Sentinel({ id: 's', meta, liveStore: new MemoryLiveStore(), settings: SETTINGS, log: quietLog(), probe: scriptedProbe().probe });
  await t.rejects(s.start(), new MetaClientError('role "client" may not call GET /v1/meta/state', 403, 'forbidden'));
  await s.stop();
});

t.test('settings are checked', async (t) => {
  const make = (settings: Partial<SentinelSettings>) => () => new Sentinel({
    id: 's', meta: new FakeMeta(), liveStore: new MemoryLiveStore(), settings: { ...SETTINGS, ...settings }, log: quietLog(),
  });
  t.throws(make({ intervalMs: 0 }), /intervalMs/);
  t.throws(make({ quorum: 0 }), /quorum/);
  t.throws(make({ suspectAfterMisses: 0 }), /suspectAfterMisses/);
});

t.test('the listener: heartbeats keep a node up, credentials are checked, metrics', async (t) => {
  const authority = generateAuthority();
  const now = Math.floor(Date.now() / 1000);
  const token = (role: Role, sub: string): string => mintToken(authority, { role, sub, iat: now, exp: now + 600 });
  const meta = new FakeMeta();
  meta.addNode('n1');
  meta.addNode('n2');
  const p = scriptedProbe();
  p.set('n1', 'refused'); // the sentinel cannot reach n1, but n1 reaches the sentinel
  // Four misses in a row, 400 ms without a heartbeat, make a node suspect here.
  const s = await sentinel(t, meta, p.probe, { settings: { intervalMs: 100, suspectAfterMisses: 4 } });
  const server = await startSentinelServer({ sentinel: s, authorityPublicKey: authority.publicKey, host: '127.0.0.1', port: 0, log: quietLog() });
  t.teardown(() => server.close());
  const post = (auth: string | null, body?: unknown): Promise<Response> => fetch(`${server.url}/v1/heartbeat`, {
    method: 'POST',
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

  const n1 = token('node', 'n1');
  let beating = true;
  const beats = (async () => {
    while (beating) {
      const res = await post(n1);
      await res.arrayBuffer();
      await sleep(5);
    }
  })();
  await sleep(500);
  t.same(meta.nodeStates(), [], 'heartbeats count as answers');
  beating = false;
  await beats;
  await eventually('n1 down without heartbeats', async () => (meta.current.nodes['n1']!.state === 'down' ? true : undefined), 5000, 10);

  let res = await post(n1, { nodeId: 'n1' });
  t.equal(res.status, 200);
  t.match(await res.json(), { ok: true, nodeId: 'n1', health: 'down', meta: 'down' });
  res = await post(null);
  t.equal(res.status, 401, 'no credential');
  t.match(await res.json(), { error: { code: 'unauthenticated' } });
  res = await post(token('client', 'alice'));
  t.equal(res.status, 403, 'not a node');
  res = await post(n1, { nodeId: 'n2' });
  t.equal(res.status, 403, 'a node speaks only for itself');
  res = await post(token('node', 'ghost'));
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { code: 'unknown-node' } });
  res = await post(n1, [1, 2]);
  t.equal(res.status, 400);
  const forged = mintToken(generateAuthority(), { role: 'node', sub: 'n1', iat: now, exp: now + 600 });
  t.equal((await post(forged)).status, 401, 'signed by another authority');

  t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz is anonymous');
  t.equal((await fetch(`${server.url}/metrics`)).status, 401, '/metrics is not');
  res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token('admin', 'admin')}` } });
  t.equal(res.status, 200);
  const text = await res.text();
  t.match(text, /opera_sentinel_probes_total \d+/);
  t.match(text, /opera_sentinel_probe_failures_total\{reason="refused"\} \d+/);
  t.match(text, /opera_sentinel_heartbeats_total [1-9]\d*/);
  t.match(text, /opera_sentinel_state_changes_total\{state="down"\} 1/);
  t.match(text, /opera_sentinel_meta_submissions_total\{state="down",result="ok"\} 1/);
  t.match(text, /opera_sentinel_nodes\{state="up"\} 1/);
  t.match(text, /opera_sentinel_nodes\{state="down"\} 1/);
  t.match(text, /opera_sentinel_meta_nodes\{state="down"\} 1/);
  t.notMatch(text, /n1|n2/, 'no node ids in labels');
});
