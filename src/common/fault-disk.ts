// A test-only fault hook: slow fsyncs. When the environment variable OPERA_FAULT_DISK
// names a file, the process re-reads it twice a second; it holds JSON such as
// {"fsyncDelayMs": 250}, and every fsync the process makes (the Raft WAL's fdatasync, the
// node store's synced LevelDB writes) waits that long first. A missing file means no delay.
// Without the variable nothing is installed and nothing costs anything. The fault tests
// (test/jepsen) use it to give one process a slow disk while it runs; no production
// setting reads it.
import { readFileSync } from 'node:fs';

export const DISK_FAULT_ENV = 'OPERA_FAULT_DISK';
/** How often the file is read again. */
export const DISK_FAULT_POLL_MS = 500;
/** A delay longer than this is refused as a typo (ten minutes). */
const MAX_DELAY_MS = 600_000;

export interface DiskFaultSettings {
  readonly fsyncDelayMs: number;
}

export const NO_DISK_FAULT: DiskFaultSettings = { fsyncDelayMs: 0 };

/** Parses the fault file; throws on anything but an object with a valid fsyncDelayMs. */
export function parseDiskFaultFile(text: string): DiskFaultSettings {
  if (text.trim() === '') return NO_DISK_FAULT;
  const json = JSON.parse(text) as unknown;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('the disk fault file must hold a JSON object');
  const delay = (json as Record<string, unknown>)['fsyncDelayMs'] ?? 0;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS) {
    throw new Error(`fsyncDelayMs must be an integer of ms from 0 to ${MAX_DELAY_MS}`);
  }
  return { fsyncDelayMs: delay };
}

export interface DiskFaults {
  /** Awaited before each fsync: resolves after the current delay (at once when 0). */
  beforeSync(): Promise<void>;
  /** The delay now in force (ms). */
  readonly delayMs: number;
  stop(): void;
}

type Warn = (message: string, details?: Record<string, unknown>) => void;

/** Reads the file now and then every DISK_FAULT_POLL_MS; a bad file keeps the last good setting and warns once. */
export function watchDiskFaultFile(file: string, warn: Warn = () => {}): DiskFaults {
  let current = NO_DISK_FAULT;
  let lastError: string | null = null;
  const read = (): void => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      current = NO_DISK_FAULT; // no file: no fault
      return;
    }
    try {
      const next = parseDiskFaultFile(text);
      if (next.fsyncDelayMs !== current.fsyncDelayMs) warn('disk fault: fsync delay changed (test-only hook)', { file, fsyncDelayMs: next.fsyncDelayMs });
      current = next;
      lastError = null;
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastError) warn('disk fault: ignoring a bad fault file', { file, error: msg });
      lastError = msg;
    }
  };
  read();
  const timer = setInterval(read, DISK_FAULT_POLL_MS);
  timer.unref();
  return {
    beforeSync() {
      const ms = current.fsyncDelayMs;
      return ms === 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
    },
    get delayMs() {
      return current.fsyncDelayMs;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

let fromEnv: DiskFaults | null | undefined;

/** The process's disk faults if OPERA_FAULT_DISK is set (one watcher per process), else null. */
export function diskFaultsFromEnv(env: NodeJS.ProcessEnv = process.env, warn?: Warn): DiskFaults | null {
  if (fromEnv !== undefined) return fromEnv;
  const file = env[DISK_FAULT_ENV];
  fromEnv = file === undefined || file === '' ? null : watchDiskFaultFile(file, warn);
  if (fromEnv !== null) warn?.('disk fault hook installed (test-only): fsyncs wait for the delay in the fault file', { file });
  return fromEnv;
}

/**
 * A LevelDB-style database whose synced writes (put/del/batch with `sync: true`) wait for
 * the fault delay first; everything else goes straight to the database.
 */
export function delaySyncedWrites<T extends object>(db: T, faults: DiskFaults): T {
  const optionsAt: Record<string, number> = { put: 2, del: 1, batch: 1 };
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      const at = typeof prop === 'string' ? optionsAt[prop] : undefined;
      if (at === undefined) return fn.bind(target);
      return (...args: unknown[]) => {
        // A chained batch (`db.batch()` with no operations) is returned as it is.
        if (prop === 'batch' && args.length === 0) return fn.apply(target, args);
        const opts = args[at] as { sync?: unknown } | undefined;
        if (opts?.sync !== true || faults.delayMs === 0) return fn.apply(target, args);
        return faults.beforeSync().then(() => fn.apply(target, args));
      };
    },
  });
}
