// Every child process the harness starts (etcd and meta members, one-shot commands):
// spawned directly (signals reach the process itself), output kept in a bounded buffer,
// and always stopped — on success, on failure, on Ctrl-C and, as a last resort, with
// SIGKILL when the harness itself exits.
import { spawn, type ChildProcess } from 'node:child_process';

const KEEP_OUTPUT = 200_000;

export interface Managed {
  readonly name: string;
  readonly role: string;
  readonly pid: number;
  readonly child: ChildProcess;
  output(): string;
  running(): boolean;
  exited(): Promise<number | null>;
}

export class ProcessGroup {
  private readonly all: Managed[] = [];
  private readonly onExitHook = (): void => this.killAllNow();

  constructor() {
    process.on('exit', this.onExitHook);
  }

  start(name: string, role: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Managed {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    let out = '';
    const keep = (b: Buffer): void => {
      out += b.toString();
      if (out.length > 2 * KEEP_OUTPUT) out = out.slice(-KEEP_OUTPUT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const m: Managed = {
      name, role, pid: child.pid, child,
      output: () => out,
      running: () => child.exitCode === null && child.signalCode === null,
      exited: () => exit,
    };
    this.all.push(m);
    return m;
  }

  /** Runs a command to completion (bounded by timeoutMs); resolves with its code and output. */
  async run(name: string, command: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
    const m = this.start(name, 'command', command, args, env);
    const timer = setTimeout(() => m.child.kill('SIGKILL'), timeoutMs);
    const code = await m.exited();
    clearTimeout(timer);
    return { code, output: m.output() };
  }

  alive(): Managed[] {
    return this.all.filter((m) => m.running());
  }

  /** SIGTERM (members flush CPU profiles and close cleanly), SIGKILL after graceMs. */
  async stop(procs: Managed[], graceMs = 5000): Promise<void> {
    await Promise.all(procs.filter((p) => p.running()).map(async (p) => {
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      p.child.kill('SIGCONT');
      p.child.kill('SIGTERM');
      await p.exited();
      clearTimeout(timer);
    }));
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await this.stop(this.alive(), graceMs);
  }

  /** Synchronous last resort for the 'exit' event: nothing may outlive the harness. */
  killAllNow(): void {
    for (const p of this.alive()) p.child.kill('SIGKILL');
  }
}
