// The machine's limits, measured in the same run as the workloads so that the results
// can be read against them: durable small appends, sequential writes, AEAD throughput of
// one core, loopback TCP.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { randomBytes, streamInitPush, streamPush, STREAM_ABYTES, STREAM_KEY_BYTES, TAG_MESSAGE } from '../src/crypto/sodium.js';
import { LatencyHistogram } from './histogram.js';

export interface LimitResult {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

const MB = 1e6;

/** fdatasync after each 4 KiB append (each sync also persists the new file size). */
export function fsyncRate(dir: string, durationMs: number): LimitResult {
  const file = join(dir, 'fsync-probe');
  const fd = openSync(file, 'a');
  const buf = randomBytes(4096);
  const hist = new LatencyHistogram();
  const start = performance.now();
  try {
    while (performance.now() - start < durationMs && hist.count < 1_000_000) {
      const t0 = performance.now();
      writeSync(fd, buf);
      fdatasyncSync(fd);
      hist.record((performance.now() - t0) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  const s = (performance.now() - start) / 1000;
  return {
    name: 'fdatasync', value: hist.count / s, unit: 'syncs/s',
    detail: `4 KiB append + fdatasync, one at a time: p50 ${(hist.quantile(0.5) / 1000).toFixed(2)} ms, p99 ${(hist.quantile(0.99) / 1000).toFixed(2)} ms, ${hist.count} syncs in ${s.toFixed(1)} s`,
  };
}

/** 1 MiB writes, then one fdatasync; the time includes the sync, so the page cache does not flatter it. */
export function sequentialWrite(dir: string, maxBytes: number, maxMs: number): LimitResult {
  const file = join(dir, 'seqwrite-probe');
  const fd = openSync(file, 'w');
  const buf = randomBytes(1 << 20);
  let written = 0;
  const start = performance.now();
  try {
    while (written < maxBytes && performance.now() - start < maxMs) written += writeSync(fd, buf);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  const s = (performance.now() - start) / 1000;
  return {
    name: 'sequential write', value: written / MB / s, unit: 'MB/s',
    detail: `${(written / 2 ** 20).toFixed(0)} MiB in 1 MiB writes + final fdatasync, ${s.toFixed(2)} s`,
  };
}

/** XChaCha20-Poly1305 secretstream push of 64 KiB frames on this thread (one core). */
export function aeadThroughput(durationMs: number): LimitResult {
  const key = randomBytes(STREAM_KEY_BYTES);
  const { state } = streamInitPush(key);
  const frame = randomBytes(64 * 1024);
  const out = Buffer.alloc(frame.length + STREAM_ABYTES);
  let frames = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs && frames < 10_000_000) {
    for (let i = 0; i < 16; i++) streamPush(state, out, frame, TAG_MESSAGE);
    frames += 16;
  }
  const s = (performance.now() - start) / 1000;
  return {
    name: 'XChaCha20-Poly1305', value: (frames * frame.length) / MB / s, unit: 'MB/s',
    detail: `sodium-native secretstream push, 64 KiB frames, one core, ${frames} frames in ${s.toFixed(2)} s`,
  };
}

/** One TCP connection over 127.0.0.1 to a sink in a worker thread; 1 MiB writes with backpressure. */
export async function loopbackTcp(durationMs: number): Promise<LimitResult> {
  const worker = new Worker(new URL('./tcp-sink.js', import.meta.url));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { kind: string; port: number }) => resolve(m.port));
      worker.once('error', reject);
    });
    const done = new Promise<number>((resolve, reject) => {
      worker.on('message', (m: { kind: string; bytes: number }) => {
        if (m.kind === 'done') resolve(m.bytes);
      });
      worker.once('error', reject);
    });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const chunk = Buffer.alloc(1 << 20, 7);
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
    }
    socket.end();
    const bytes = await done;
    const s = (performance.now() - start) / 1000;
    socket.destroy();
    return {
      name: 'loopback TCP', value: bytes / 1e9 / s, unit: 'GB/s',
      detail: `one connection, 1 MiB writes, receiver in a worker thread, ${(bytes / 2 ** 30).toFixed(2)} GiB in ${s.toFixed(2)} s`,
    };
  } finally {
    await worker.terminate();
  }
}
