// Sentinel flags: durations, defaults derived from the interval, and the quorum rule.
import t from 'tap';
import { parseDuration, sentinelSettings } from '../../src/sentinel/config.js';

t.test('durations need a unit', async (t) => {
  t.equal(parseDuration('500ms', 'x'), 500);
  t.equal(parseDuration('1s', 'x'), 1000);
  t.equal(parseDuration('1.5s', 'x'), 1500);
  t.equal(parseDuration('2m', 'x'), 120_000);
  t.equal(parseDuration('1h', 'x'), 3_600_000);
  t.equal(parseDuration(' 5s ', 'x'), 5000);
  for (const bad of ['5', '', 's', '-1s', '1d', '1 s', 'abc', '1e3ms']) {
    t.throws(() => parseDuration(bad, '--down-after'), /--down-after must be a duration/, bad);
  }
});

t.test('defaults', async (t) => {
  t.same(sentinelSettings({ shared: false }), {
    intervalMs: 1000, timeoutMs: 1000, suspectAfterMisses: 3, recoverAfterSuccesses: 3, downAfterMs: 5000, minStateMs: 2000, quorum: 1,
  });
  const fast = sentinelSettings({ interval: '200ms', suspectAfter: '2', shared: false });
  t.match(fast, { intervalMs: 200, timeoutMs: 200, suspectAfterMisses: 2, recoverAfterSuccesses: 2, minStateMs: 400 });
  t.match(sentinelSettings({ interval: '10s', shared: false }), { timeoutMs: 1000 }, 'the default timeout stays short');
  t.match(sentinelSettings({ timeout: '300ms', recoverAfter: '5', minDwell: '0ms', downAfter: '2m', shared: false }),
    { timeoutMs: 300, recoverAfterSuccesses: 5, minStateMs: 0, downAfterMs: 120_000 });
});

t.test('a quorum above one needs a shared LiveStore', async (t) => {
  t.throws(() => sentinelSettings({ quorum: '2', shared: false }), /--quorum 2 needs .*--redis/);
  t.equal(sentinelSettings({ quorum: '2', shared: true }).quorum, 2);
});

t.test('bad values name their flag', async (t) => {
  t.throws(() => sentinelSettings({ interval: '1ms', shared: false }), /--interval/);
  t.throws(() => sentinelSettings({ timeout: '5', shared: false }), /--timeout/);
  t.throws(() => sentinelSettings({ suspectAfter: '0', shared: false }), /--suspect-after/);
  t.throws(() => sentinelSettings({ recoverAfter: 'x', shared: false }), /--recover-after/);
  t.throws(() => sentinelSettings({ quorum: '1.5', shared: true }), /--quorum/);
  t.throws(() => sentinelSettings({ minDwell: 'soon', shared: false }), /--min-dwell/);
});
