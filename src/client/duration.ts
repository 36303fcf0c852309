// Durations as people write them: "500ms", "30s", "5m", "1h30m", or a number of milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {
  override name = "DurationError";
}

/** Parses "1h30m", "30s", "250ms" (or a bare number of seconds, like etcdctl's --ttl) into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const parts = s.match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join("") !== s) {
    throw new DurationError(`"${text}" is not a duration; write it like 500ms, 30s, 5m or 1h30m`);
  }
  let total = 0;
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p)!;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return Math.round(total);
}
