// A counter workload for failover tests (not a test file): one writer per key writes
// `key:1`, `key:2`, … to whichever node meta names primary, readers check that no
// linearizable read returns a counter below one acknowledged before the read began, and
// `checkNothingLost` proves at the end that every acknowledged counter survived on the
// primary and on every in-sync replica.
import type { Test } from 'tap';
import { get, put, type TestCluster, type TestNode } from './cluster.js';

export interface KeyState {
  readonly key: string;
  /** Highest counter acknowledged by a primary. */
  acked: number;
  /** Highest counter ever sent (acknowledged or not). */
  attempted: number;
}

export function counterKeys(prefix: string, count: number): KeyState[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${prefix}/${1000 + i}`, acked: 0, attempted: 0 }));
}

export async function primaryOf(c: TestCluster, key: string): Promise<{ node: TestNode; partition: number; epoch: number } | null> {
  const map = await c.map();
  const partition = c.partitionOf(key);
  const record = map.partitions[partition]!;
  if (record.primary === null) return null;
  const node = c.nodes.find((n) => n.id === record.primary);
  return node === undefined || node.proc === null ? null : { node, partition, epoch: record.epoch };
}

export interface CounterLoad {
  readonly keys: KeyState[];
  /** Refused or failed writes by status and error code. */
  readonly failures: Map<string, number>;
  reads(): number;
  staleReads(): number;
  /** Waits (bounded) until every key's acknowledged counter reached `floor(i)`; true if it did. */
  until(floor: (i: number) => number, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function startCounterLoad(t: Test, c: TestCluster, keys: KeyState[], token: string, rand: () => number, readers = 2): CounterLoad {
  let stopped = false;
  let reads = 0;
  let stale = 0;
  const failures = new Map<string, number>();

  const writer = async (k: KeyState): Promise<void> => {
    let next = 1;
    while (!stopped) {
      const target = await primaryOf(c, k.key).catch(() => null);
      if (target === null) {
        await pause(50);
        continue;
      }
      k.attempted = Math.max(k.attempted, next);
      const res = await put(target.node, token, target.partition, k.key, `${k.key}:${next}`, { 'x-opera-epoch': String(target.epoch) }).catch(() => null);
      if (res !== null && res.status === 201) {
        k.acked = next;
        next++;
      } else {
        const code = res === null ? 'network' : `${res.status} ${((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? ''}`;
        failures.set(code, (failures.get(code) ?? 0) + 1);
        await pause(20 + rand() * 80);
      }
    }
  };

  const reader = async (): Promise<void> => {
    while (!stopped) {
      const k = keys[Math.floor(rand() * keys.length)]!;
      const floor = k.acked; // acknowledged before this read began
      const target = await primaryOf(c, k.key).catch(() => null);
      if (target === null) continue;
      const res = await get(target.node, token, target.partition, k.key).catch(() => null);
      if (res === null || res.status !== 200) {
        await pause(30);
        continue;
      }
      reads++;
      const n = Number((await res.text()).split(':').pop());
      if (n < floor) {
        stale++;
        t.fail(`stale read of ${k.key}: ${n} after ${floor} was acknowledged`);
      }
    }
  };

  const running = [...keys.map(writer), ...Array.from({ length: readers }, reader)];
  return {
    keys,
    failures,
    reads: () => reads,
    staleReads: () => stale,
    async until(floor, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const reached = (): boolean => keys.every((k, i) => k.acked >= floor(i));
      while (Date.now() < deadline && !reached()) await pause(100);
      return reached();
    },
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** Every key's counter on its primary lies between acknowledged and attempted, and every in-sync replica holds that version. */
export async function checkNothingLost(t: Test, c: TestCluster, keys: readonly KeyState[], token: string): Promise<void> {
  const map = await c.map();
  for (const k of keys) {
    const target = await primaryOf(c, k.key);
    t.ok(target !== null, `${k.key} has a primary`);
    const res = await get(target!.node, token, target!.partition, k.key);
    t.equal(res.status, 200);
    const n = Number((await res.text()).split(':').pop());
    t.ok(n >= k.acked && n <= k.attempted, `${k.key}: ${n} is between acknowledged ${k.acked} and attempted ${k.attempted}`);
    const version = res.headers.get('etag');
    for (const id of map.partitions[target!.partition]!.replicas) {
      // An unconfirmed last attempt may still be on its way to the replicas: give it a moment.
      let seen: string | null = null;
      for (let i = 0; i < 50 && seen !== version; i++) {
        if (i > 0) await pause(100);
        seen = (await get(c.node(id), token, target!.partition, k.key, '?consistency=any')).headers.get('etag');
      }
      t.equal(seen, version, `${id} holds the same version of ${k.key}`);
    }
  }
}
