import t from 'tap';
import { partitionOf, placeReplicas, planMoves, rankNodes, type PlacementNode } from '../../src/meta/placement.js';
import { prng, seedFromEnv } from './helpers.js';

const nodesN = (n: number, weight = 1): PlacementNode[] => Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, weight }));
const placeAll = (p: number, nodes: readonly PlacementNode[], r: number): string[][] =>
  Array.from({ length: p }, (_, i) => placeReplicas(i, nodes, r));
const load = (map: readonly (readonly string[])[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const set of map) for (const id of set) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

t.test('partitionOf is frozen: these values must never change', async (t) => {
  t.equal(partitionOf('sol/earth/moon', 64), 51);
  t.equal(partitionOf('hip/71683', 64), 43);
  t.equal(partitionOf('gaia-dr3/4472832130942575872', 1024), 211);
  t.equal(partitionOf('', 7), 6);
  t.equal(partitionOf('étoile/α-Cen', 64), 48, 'hashes UTF-8 bytes');
  t.equal(partitionOf('anything', 1), 0);
});

t.test('partitionOf spreads keys evenly', async (t) => {
  const counts = new Array<number>(64).fill(0);
  for (let i = 0; i < 64_000; i++) counts[partitionOf(`hip/${i}`, 64)]! += 1;
  t.ok(Math.min(...counts) > 850 && Math.max(...counts) < 1150, `counts within ±15% of 1000: ${Math.min(...counts)}..${Math.max(...counts)}`);
});

t.test('partitionOf rejects bad input', async (t) => {
  t.throws(() => partitionOf('k', 0), /positive integer/);
  t.throws(() => partitionOf('k', 2.5), /positive integer/);
  t.throws(() => partitionOf(42 as unknown as string, 8), /must be a string/);
});

t.test('placeReplicas is frozen and independent of input order', async (t) => {
  const nodes = nodesN(5);
  t.same(placeReplicas(0, nodes, 3), ['n5', 'n4', 'n3']);
  t.same(placeReplicas(42, nodes, 3), ['n1', 'n5', 'n3']);
  t.same(placeReplicas(42, [...nodes].reverse(), 3), ['n1', 'n5', 'n3']);
  t.same(rankNodes(42, nodes).map((n) => n.id), ['n1', 'n5', 'n3', 'n2', 'n4']);
  t.same(placeReplicas(42, nodes, 2), ['n1', 'n5'], 'a smaller R is a prefix of the ranking');
});

t.test('balance: 1,024 partitions over 10 equal nodes', async (t) => {
  const counts = load(placeAll(1024, nodesN(10), 3));
  const share = (1024 * 3) / 10;
  for (const [id, c] of counts) t.ok(Math.abs(c - share) / share < 0.15, `${id} holds ${c}, share ${share}`);
  t.equal(counts.size, 10);
});

t.test('weights are honoured', async (t) => {
  const nodes: PlacementNode[] = [...nodesN(4), { id: 'big', weight: 4 }];
  const primaries = load(placeAll(4000, nodes, 1));
  const bigShare = (primaries.get('big') ?? 0) / 4000;
  t.ok(Math.abs(bigShare - 0.5) < 0.05, `R=1: weight 4 of 8 gets ${bigShare.toFixed(3)} of partitions`);
  const r3 = load(placeAll(2000, [...nodesN(8), { id: 'big', weight: 3 }], 3));
  const small = Math.max(...[...r3].filter(([id]) => id !== 'big').map(([, c]) => c));
  t.ok((r3.get('big') ?? 0) > 2 * small, `R=3: the heavy node holds ${r3.get('big')} vs at most ${small} for the others`);
});

t.test('adding a node moves about R·P/(N+1) replicas, all onto the new node', async (t) => {
  const P = 1024;
  const R = 3;
  const before = nodesN(10);
  const after = [...before, { id: 'new', weight: 1 }];
  const moves = planMoves(placeAll(P, before, R), after, R);
  const expected = (R * P) / 11;
  t.ok(Math.abs(moves.length - expected) / expected < 0.15, `${moves.length} moves, expected about ${expected.toFixed(0)}`);
  t.ok(moves.every((m) => m.target === 'new' && m.source !== null && m.source !== 'new'), 'every move goes from an old node to the new one');
  t.equal(new Set(moves.map((m) => m.partition)).size, moves.length, 'at most one move per partition');
  // Applying the moves gives exactly the new placement.
  const map = placeAll(P, before, R);
  for (const m of moves) map[m.partition] = map[m.partition]!.map((id) => (id === m.source ? 'new' : id));
  const want = placeAll(P, after, R);
  t.ok(map.every((set, p) => [...set].sort().join() === [...want[p]!].sort().join()), 'moves reach the new placement');
});

t.test('removing a node moves only the replicas it held', async (t) => {
  const P = 512;
  const before = nodesN(8);
  const map = placeAll(P, before, 3);
  const moves = planMoves(map, before.filter((n) => n.id !== 'n3'), 3);
  const held = map.filter((set) => set.includes('n3')).length;
  t.equal(moves.length, held);
  t.ok(moves.every((m) => m.source === 'n3' && m.target !== null && m.target !== 'n3'));
  t.ok(moves.every((m) => !map[m.partition]!.includes(m.target as string)), 'targets did not hold the partition');
});

t.test('zones: replicas in distinct zones when there are at least R zones', async (t) => {
  const zoned = (zones: number, perZone: number): PlacementNode[] =>
    Array.from({ length: zones * perZone }, (_, i) => ({ id: `z${i % zones}-n${i}`, weight: 1 + (i % 3), zone: `z${i % zones}` }));
  for (const [zones, perZone] of [[3, 3], [4, 2], [5, 4]] as const) {
    const nodes = zoned(zones, perZone);
    const zoneOf = new Map(nodes.map((n) => [n.id, n.zone]));
    const map = placeAll(256, nodes, 3);
    t.ok(map.every((set) => new Set(set.map((id) => zoneOf.get(id))).size === 3), `${zones} zones × ${perZone}: distinct zones`);
  }
  const two = zoned(2, 3);
  const zoneOf = new Map(two.map((n) => [n.id, n.zone]));
  t.ok(placeAll(256, two, 3).every((set) => set.length === 3 && new Set(set.map((id) => zoneOf.get(id))).size === 2), '2 zones, R=3: both zones used');
});

t.test('zones: membership changes still only move onto the new node / off the old one', async (t) => {
  const seed = seedFromEnv(20240611);
  t.comment(`seed ${seed}`);
  const rand = prng(seed);
  for (let round = 0; round < 20; round++) {
    const zones = 1 + Math.floor(rand() * 4);
    const nodes: PlacementNode[] = Array.from({ length: 3 + Math.floor(rand() * 6) }, (_, i) => ({
      id: `n${i}`,
      weight: 1 + Math.floor(rand() * 4),
      zone: `z${Math.floor(rand() * zones)}`,
    }));
    const extra: PlacementNode = { id: 'x', weight: 1 + Math.floor(rand() * 4), zone: `z${Math.floor(rand() * (zones + 1))}` };
    const R = 1 + Math.floor(rand() * 3);
    const before = placeAll(128, nodes, R);
    const add = planMoves(before, [...nodes, extra], R);
    t.ok(add.every((m) => m.target === 'x'), `round ${round}: additions land on the new node`);
    const gone = nodes[Math.floor(rand() * nodes.length)]!.id;
    const remove = planMoves(before, nodes.filter((n) => n.id !== gone), R);
    t.ok(remove.every((m) => m.source === gone || (m.source === null && nodes.length - 1 < R)), `round ${round}: only ${gone}'s replicas move`);
  }
});

t.test('edge cases', async (t) => {
  t.same(placeReplicas(3, nodesN(2), 3).sort(), ['n1', 'n2'], 'fewer nodes than R: all of them');
  t.same(placeReplicas(3, [], 3), [], 'no nodes: nobody');
  t.same(planMoves([[], []], nodesN(1), 3), [
    { partition: 0, source: null, target: 'n1' },
    { partition: 1, source: null, target: 'n1' },
  ]);
  t.same(planMoves([['a', 'b']], [], 2), [
    { partition: 0, source: 'a', target: null },
    { partition: 0, source: 'b', target: null },
  ], 'no nodes left: drops');
  t.throws(() => placeReplicas(0, nodesN(3), 0), /replication factor/);
  t.throws(() => placeReplicas(-1, nodesN(3), 1), /partition/);
  t.throws(() => placeReplicas(1.5, nodesN(3), 1), /partition/);
  t.throws(() => placeReplicas(0, [{ id: 'a', weight: 1 }, { id: 'a', weight: 2 }], 1), /listed twice/);
  t.throws(() => placeReplicas(0, [{ id: 'a', weight: 0 }], 1), /weight/);
  t.throws(() => placeReplicas(0, [{ id: 'a', weight: Number.NaN }], 1), /weight/);
  t.throws(() => placeReplicas(0, [{ id: '', weight: 1 }], 1), /non-empty/);
  t.throws(() => placeReplicas(0, [{ id: 'a', weight: 1, zone: '' }], 1), /zone/);
  t.throws(() => planMoves([['a', 'a']], nodesN(2), 1), /twice/);
});
