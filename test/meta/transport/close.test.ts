// close() must leave nothing behind: the process exits by itself right after.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const fixture = fileURLToPath(new URL('./fixtures/exit-after-close.js', import.meta.url));

t.test('after close() no sockets, servers or timers remain and the process exits', async (t) => {
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  t.teardown(() => {
    clearTimeout(killer);
    child.kill('SIGKILL');
  });
  let out = '';
  let closedAt = 0;
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (closedAt === 0 && out.includes('\n')) closedAt = Date.now();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 0, 'exited normally');
  const report = JSON.parse(out.trim()) as { closed: boolean; resources: string[] };
  t.ok(report.closed);
  const leaked = report.resources.filter((r) => /TCP|Timeout|Immediate/.test(r)); // stdio pipes remain
  t.same(leaked, [], `active after close: ${report.resources.join(', ')}`);
  t.ok(Date.now() - closedAt < 3000, 'exited promptly after close()');
});
