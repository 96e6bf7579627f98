/** Milliseconds in a duration flag like 500ms, 10s, 2m or 1h (a bare number is seconds); throws a message naming `flag`. */
export function parseDuration(flag: string, raw: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(raw).trim());
  if (!match) throw new Error(`${flag} must be a duration like 500ms, 10s or 2m, got ${JSON.stringify(raw)}`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return Number(match[1]) * scale[(match[2] ?? "s") as keyof typeof scale];
}
