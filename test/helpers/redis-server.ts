import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Starts a throwaway redis-server on a free 127.0.0.1 port for one test and
 * stops it in that test's teardown. It never outlives the test process: it is
 * killed on teardown, on process exit and, where util-linux `setpriv` exists,
 * by the kernel when the test process dies (parent-death signal).
 */

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server; safe to call more than once. */
  stop(): Promise<void>;
}

/** The part of a tap Test this helper needs. */
export interface TeardownHost {
  teardown(fn: () => void | Promise<void>): void;
}

const READY = 'Ready to accept connections';
const START_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;

export async function startRedis(t: TeardownHost): Promise<RedisServer> {
  const binary = findOnPath('redis-server');
  if (binary === undefined) {
    throw new Error(
      'redis-server is not installed: the Redis LiveStore tests need it ' +
        '(Debian: apt-get install -y redis-server)',
    );
  }
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const server = await launch(binary, port);
      t.teardown(() => server.stop());
      return server;
    } catch (err) {
      lastError = err as Error;
      if (!(err instanceof PortTakenError)) throw err;
    }
  }
  throw new Error(`redis-server found no free port in ${PORT_ATTEMPTS} attempts: ${lastError?.message}`);
}

class PortTakenError extends Error {}

async function launch(binary: string, port: number): Promise<RedisServer> {
  // Its own empty directory: a stray dump.rdb must never land in the repository.
  const dir = mkdtempSync(join(tmpdir(), 'opera-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const setpriv = findOnPath('setpriv');
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', binary, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await terminate(child);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitReady(child, port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

function waitReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      finish(new Error(`redis-server on port ${port} not ready after ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(READY)) finish();
    };
    const onExit = (code: number | null, signal: string | null): void => {
      const why = `redis-server exited (code ${code}, signal ${signal}) before it was ready:\n${output}`;
      finish(/already in use/i.test(output) ? new PortTakenError(why) : new Error(why));
    };
    const onError = (err: Error): void => finish(err);
    function finish(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so that a chatty server never blocks on them.
      child.stdout?.resume();
      child.stderr?.resume();
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Binds port 0 and releases it; a race with another process is retried by the caller. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
