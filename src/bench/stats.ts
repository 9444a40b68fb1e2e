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

/** A run that measures its own rate (after its own warm-up). */
export interface Rate {
  fps: number;
  frames: number;
}

/**
 * Every variant once per round, `rounds` times, for runs that time themselves: as timeInterleaved, each row sees
 * the same stretch of the machine's load, and a ratio between two rows can be taken round by round.
 */
export async function ratesInterleaved(variants: Record<string, () => Promise<Rate>>, rounds: number, onRun?: (name: string, round: number, r: Rate) => void): Promise<Record<string, Rate[]>> {
  const out: Record<string, Rate[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const rate = await fn();
      out[name]!.push(rate);
      onRun?.(name, r, rate);
    }
  }
  return out;
}

/** The median of the per-round ratios a[i] / b[i] (rows of one ratesInterleaved call). */
export function medianRatio(a: readonly Rate[], b: readonly Rate[]): number {
  return median(a.map((r, i) => r.fps / b[i]!.fps));
}
