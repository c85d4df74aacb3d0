// Small durability helpers shared by the WAL and the snapshot file.

import { open, type FileHandle } from 'node:fs/promises';

/** Makes creations, renames and unlinks inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Time an fsync-like call, reporting milliseconds to an optional observer. */
export async function timed(run: () => Promise<void>, observe: ((ms: number) => void) | undefined): Promise<void> {
  const start = process.hrtime.bigint();
  await run();
  observe?.(Number(process.hrtime.bigint() - start) / 1e6);
}

/** Writes every byte of `chunks` at `position`, looping over short writes. */
export async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<void> {
  let pos = position;
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos);
      if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${pos}`);
      done += bytesWritten;
      pos += bytesWritten;
    }
  }
}
