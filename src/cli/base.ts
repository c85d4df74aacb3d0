// What every `opera` command shares: exit codes (0 ok, 1 failed operation, 2 bad usage),
// `--json` output, and turning errors into one clear line on stderr.
import { Command, Option } from 'clipanion';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export abstract class OperaCommand extends Command {
  json = Option.Boolean('--json', false, { description: 'Print machine-readable JSON' });

  abstract run(): Promise<number | void>;

  async execute(): Promise<number> {
    try {
      return (await this.run()) ?? 0;
    } catch (err) {
      if (err instanceof UsageError) {
        this.context.stderr.write(`opera: ${err.message}\n`);
        return 2;
      }
      const e = err as Error;
      if (this.json) this.context.stdout.write(JSON.stringify({ error: { message: e.message } }) + '\n');
      this.context.stderr.write(`opera: ${e.message}\n`);
      if (process.env['OPERA_DEBUG']) this.context.stderr.write(`${e.stack}\n`);
      return 1;
    }
  }

  out(human: string, json: unknown): void {
    this.context.stdout.write(this.json ? JSON.stringify(json) + '\n' : human.endsWith('\n') ? human : human + '\n');
  }
}

export function intOption(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  return n;
}
