// The command line of `npm run jepsen`: defaults that keep old seeds replayable, the
// new kinds and options, and refusals of combinations that cannot work.
import t from 'tap';
import { parseArgs } from './args.js';
import { DEFAULT_FAULT_KINDS, FAULT_KINDS } from './nemesis/schedule.js';
import { WORKLOADS } from './run.js';

const seed = (): number => 42;

t.test('defaults: the classic nemesis kinds, three meta members, no teeth', async (t) => {
  const o = parseArgs([], seed);
  t.same(o.nemesis, DEFAULT_FAULT_KINDS);
  t.equal(o.metaSize, 3);
  t.same(o.teeth, []);
  t.equal(o.seed, 42);
});

t.test('all and none, five members, teeth', async (t) => {
  t.same(parseArgs(['--nemesis', 'all'], seed).nemesis, FAULT_KINDS);
  t.same(parseArgs(['--nemesis', 'none'], seed).nemesis, []);
  t.same(parseArgs(['--nemesis', 'crash,flap,reorder,bridge'], seed).nemesis, ['crash', 'flap', 'reorder', 'bridge']);
  t.equal(parseArgs(['--meta', '5'], seed).metaSize, 5);
  t.same(parseArgs(['--teeth', 'all', '--workload', 'all'], seed).teeth, ['lose-ack', 'phantom-write', 'fresh-seq']);
  t.same(parseArgs(['--workload', 'all'], seed).workloads, WORKLOADS);
  t.same(parseArgs([], seed).workloads, ['register', 'set'], 'the default workloads are the ones old seeds ran');
});

t.test('refusals', async (t) => {
  t.throws(() => parseArgs(['--meta', '4'], seed), /--meta must be one of 3, 5/);
  t.throws(() => parseArgs(['--teeth', 'lose-ack', '--workload', 'register'], seed), /needs the set workload/);
  t.throws(() => parseArgs(['--teeth', 'phantom-write', '--workload', 'set'], seed), /needs the register workload/);
  t.throws(() => parseArgs(['--teeth', 'bite'], seed), /unknown tooth "bite"/);
  t.throws(() => parseArgs(['--teeth', 'fresh-seq'], seed), /needs the exactly-once workload/);
  t.throws(() => parseArgs(['--nemesis', 'meteor'], seed), /unknown nemesis "meteor"/);
});
