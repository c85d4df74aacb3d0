// Token lifetimes as operators write them: "90s", "30m", "1h", "7d", or a number of seconds.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const TTL = /^([1-9][0-9]{0,9})([smhd]?)$/;

/** Seconds, or an Error saying what a TTL looks like. */
export function parseTtl(value: unknown, maxSeconds: number): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = TTL.exec(value.trim());
    if (m === null) throw new Error(`ttl "${value.slice(0, 40)}" must look like 90s, 30m, 1h, 7d or a number of seconds`);
    seconds = Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
  } else {
    throw new Error('ttl must be a string such as "1h" or a number of seconds');
  }
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new Error('ttl must be a whole number of seconds, at least 1');
  if (seconds > maxSeconds) throw new Error(`ttl must be at most ${formatDuration(maxSeconds)}`);
  return seconds;
}

/** "365d", "1h", "90s": the largest unit that divides evenly. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
