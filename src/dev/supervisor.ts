// The child processes of `opera dev`: each role is its own `opera` process (so one can
// be killed alone), its output appended to a log file, all stopped together.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const operaBin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/opera.js');

export type DevRole = 'meta' | 'gateway' | 'node' | 'sentinel';

export interface DevProcess {
  readonly role: DevRole;
  readonly id: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly log: string;
}

export class Supervisor {
  readonly processes: DevProcess[] = [];
  private logs: WriteStream[] = [];
  private stopping = false;
  onExit: (p: DevProcess, code: number | null, signal: NodeJS.Signals | null) => void = () => {};

  constructor(private readonly logDir: string, private readonly env: NodeJS.ProcessEnv) {}

  /** `env` adds to (or overrides) the supervisor's environment for this process only. */
  start(role: DevRole, id: string, url: string, args: string[], env?: NodeJS.ProcessEnv): DevProcess {
    const log = join(this.logDir, `${id}.log`);
    const out = createWriteStream(log, { flags: 'a' });
    this.logs.push(out);
    const child = spawn(process.execPath, [operaBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...this.env, ...env } : this.env });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    const p: DevProcess = { role, id, url, child, log };
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.onExit(p, code, signal);
    });
    this.processes.push(p);
    return p;
  }

  /** SIGTERM to everyone (nodes drain), SIGKILL to whoever is still there after `graceMs`. */
  async stop(graceMs = 8000): Promise<void> {
    this.stopping = true;
    const alive = this.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    await Promise.all(alive.map((p) => new Promise<void>((resolvePromise) => {
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      p.child.once('exit', () => {
        clearTimeout(timer);
        resolvePromise();
      });
      p.child.kill('SIGCONT');
      p.child.kill('SIGTERM');
    })));
    for (const l of this.logs) l.end();
  }
}
