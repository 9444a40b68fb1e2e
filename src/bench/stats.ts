export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timeRuns(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Every variant once per round, `rounds` times, after `warmUps` untimed rounds: each row sees the same machine
 * state (heap size, caches, other load) instead of whatever its turn in a fixed order brought. Times in ms.
 */
export async function timeInterleaved(variants: Record<string, () => Promise<unknown>>, rounds: number, warmUps = 2): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < warmUps + rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = performance.now();
      await fn();
      if (r >= warmUps) out[name]!.push(performance.now() - t0);
    }
  }
  return out;
}
