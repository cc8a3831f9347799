/**
 * Would fused multiply-add help the library's SIMD kernels? Builds heap-simd.wat twice, as it ships and with every
 * `f32x4.add(acc, f32x4.mul(s, w))` of the convolution and filter-gradient loops turned into WebAssembly's relaxed
 * `f32x4.relaxed_madd` (an FMA where the CPU has one), and times both on the same memory, interleaved: a 3×3 16→16
 * convolution and its filter gradient on a [16, 32, 32, 16] batch (median wall ms per call of each round). Relaxed SIMD
 * is on by default from Node 22 / Chrome 114; Node 20 needs `--experimental-wasm-relaxed-simd`, which this script sets
 * at run time.
 *
 * Usage: npx tsx lab/scripts/bench-relaxed-simd.ts [--rounds 5] [--calls 60]
 */
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import wabtInit from 'wabt';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '60' } } });
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const wabt = await wabtInit();
const source = readFileSync(new URL('../../src/backends/wasm-kernels/heap-simd.wat', import.meta.url), 'utf8');
const relaxed = source.replace(
  /\(f32x4\.add \(local\.get (\$a\d\d)\) \(f32x4\.mul \(local\.get \$s\) \(local\.get (\$\w+)\)\)\)/g,
  '(f32x4.relaxed_madd (local.get $s) (local.get $2) (local.get $1))',
);
const fused = (relaxed.match(/relaxed_madd/g) ?? []).length;
if (fused === 0) throw new Error('no multiply-add found to fuse: the loops of heap-simd.wat changed');
const compile = (text: string): WebAssembly.Module => {
  const m = wabt.parseWat('heap-simd.wat', text, { simd: true, relaxed_simd: true });
  const { buffer } = m.toBinary({});
  m.destroy();
  return new WebAssembly.Module(buffer as Uint8Array<ArrayBuffer>);
};
type Kernels = { conv(...a: number[]): void; filter_grad(...a: number[]): void };
const memory = new WebAssembly.Memory({ initial: 1024 });
const plain = new WebAssembly.Instance(compile(source), { env: { memory } }).exports as unknown as Kernels;
const fma = new WebAssembly.Instance(compile(relaxed), { env: { memory } }).exports as unknown as Kernels;
const f = new Float32Array(memory.buffer);
for (let i = 0; i < f.length; i++) f[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
const [B, H, W, C] = [16, 32, 32, 16];
const xp = 0;
const dy = 4 * B * (H + 2) * (W + 2) * C;
const w = dy + 4 * B * H * W * C;
const out = w + 4 * 9 * C * C;
const dw = out + 4 * B * H * W * C;
const calls = Number(args.calls);
const time = (fn: () => void): number => {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return (performance.now() - t0) / calls;
};
const rows: Record<string, number[]> = { 'conv, as shipped': [], 'conv, relaxed_madd': [], 'filter gradient, as shipped': [], 'filter gradient, relaxed_madd': [] };
for (let r = 0; r < Number(args.rounds); r++) {
  rows['conv, as shipped'].push(time(() => plain.conv(xp, w, 0, out, B, H, W, 3, 3, C, C)));
  rows['conv, relaxed_madd'].push(time(() => fma.conv(xp, w, 0, out, B, H, W, 3, 3, C, C)));
  rows['filter gradient, as shipped'].push(time(() => plain.filter_grad(xp, dy, dw, B, H, W, 3, 3, C, C)));
  rows['filter gradient, relaxed_madd'].push(time(() => fma.filter_grad(xp, dy, dw, B, H, W, 3, 3, C, C)));
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const gflop = (2 * B * H * W * C * C * 9) / 1e9;
console.log(`${fused} multiply-adds fused; [${B}, ${H}, ${W}, ${C}] 3x3 -> ${C}, ${gflop.toFixed(3)} GFLOP per call; median of ${args.rounds} rounds of ${calls} calls`);
console.log('| kernel | ms per call | GFLOP/s |\n|---|---|---|');
for (const [k, v] of Object.entries(rows)) console.log(`| ${k} | ${median(v).toFixed(3)} | ${(gflop / (median(v) / 1000)).toFixed(1)} |`);
