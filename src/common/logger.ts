// pino loggers for every role; level from OPERA_LOG_LEVEL (default info).
import pino, { type Logger } from 'pino';

export function makeLogger(role: string, fields: Record<string, unknown> = {}): Logger {
  return pino({ level: process.env['OPERA_LOG_LEVEL'] ?? 'info', base: { role, pid: process.pid, ...fields } });
}

/** Stops on SIGINT/SIGTERM, once, then exits. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
