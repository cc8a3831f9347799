/**
 * Interleaved A/B timing for the benchmark scripts (bench-ort.ts; lab/scripts/bench-ort-archs.ts, bench-x1-archs.ts): every round runs `per` calls
 * of each variant in turn, so drift in machine load hits all variants alike; then a markdown table of median / p10 /
 * p95 ms and fps per variant.
 */

/** Times `rounds × per` calls of each variant after `warmup` untimed ones; returns the per-call milliseconds. */
export async function interleavedTimes(variants: Map<string, () => Promise<unknown>>, rounds: number, per = 10, warmup = 5): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>();
  for (const [k, run] of variants) {
    times.set(k, []);
    for (let i = 0; i < warmup; i++) await run();
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of variants) {
      for (let i = 0; i < per; i++) {
        const t0 = performance.now();
        await run();
        times.get(k)!.push(performance.now() - t0);
      }
    }
  }
  return times;
}

function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The markdown table of {@link interleavedTimes}' result. */
export function timesTable(times: Map<string, number[]>): string {
  const rows = [...times].map(([k, t]) => `| ${k} | ${pct(t, 50).toFixed(1)} | ${pct(t, 10).toFixed(1)} | ${pct(t, 95).toFixed(1)} | ${(1000 / pct(t, 50)).toFixed(1)} |`);
  return ['| variant | median ms | p10 ms | p95 ms | fps (median) |', '|---|---|---|---|---|', ...rows].join('\n');
}
