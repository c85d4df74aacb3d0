// The results folder of a run: histories as JSON lines, the nemesis log, the schedule and
// a summary; the processes' logs are already in logs/ (the cluster writes them there).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeJsonLines(dir: string, name: string, rows: readonly unknown[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
}

export async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), JSON.stringify(value, null, 2) + '\n');
}
