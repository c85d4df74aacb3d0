// The machine's limits, first, while nothing else of ours runs.
import type { Benchmark } from '../registry.js';
import { aeadThroughput, fsyncRate, loopbackTcp, sequentialWrite } from '../limits.js';

export const limitsBenchmark: Benchmark = {
  name: 'limits',
  title: 'Machine limits',
  async run(ctx) {
    const q = ctx.opts.quick;
    const dir = await ctx.scratch('limits');
    ctx.log('limits: fdatasync of 4 KiB appends');
    ctx.limits.push(fsyncRate(dir, q ? 2000 : 5000));
    ctx.log('limits: sequential write');
    ctx.limits.push(sequentialWrite(dir, q ? 256 * 2 ** 20 : 1024 * 2 ** 20, q ? 3000 : 10_000));
    ctx.log('limits: XChaCha20-Poly1305');
    ctx.limits.push(aeadThroughput(q ? 1000 : 3000));
    ctx.log('limits: loopback TCP');
    ctx.limits.push(await loopbackTcp(q ? 1000 : 3000));
    for (const l of ctx.limits) ctx.log(`  ${l.name}: ${l.value.toFixed(l.unit === 'GB/s' ? 2 : 0)} ${l.unit}`);
  },
};
