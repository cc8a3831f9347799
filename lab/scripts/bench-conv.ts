/**
 * The stride-1 convolutions of a compact student's training step on wasm (one backend thread) with the library's SIMD
 * loop (`conv-simd.ts`) against the backend's own XNNPACK kernels, interleaved in one process: forward (`FusedConv2D`
 * with a bias, as `RepConv2D` calls it) and the input gradient (`Conv2DBackpropInput`, a convolution of dy with the
 * flipped filter). Median process CPU ms per call (steady when other jobs share the machine), and the largest relative
 * difference between the two. The figures in docs/training-on-wasm.md come from this script.
 *
 * Usage: npx tsx lab/scripts/bench-conv.ts [--rounds 9] [--calls 10]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backends/use-backend';
import { conv2dSimdConfig, fusedConv2dSimdConfig } from '../../src/backends/wasm-kernels/conv-simd';
import { originalConfig } from '../../src/backends/wasm-kernels/originals';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, calls: { type: 'string', default: '10' } } });
await useBackend('wasm', { threads: 1 });
const configs = [conv2dSimdConfig, fusedConv2dSimdConfig];
/** Switches `Conv2D` and `FusedConv2D` between the SIMD loop and XNNPACK. */
function use(simd: boolean): void {
  for (const cfg of configs) {
    unregisterKernel(cfg.kernelName, 'wasm');
    const original = originalConfig(cfg.kernelName)!;
    registerKernel(simd ? cfg : original);
    if (!simd) original.setupFunc?.(tf.backend());
  }
}
if (!getKernel('FusedConv2D', 'wasm') || !originalConfig('FusedConv2D')) throw new Error('the SIMD convolutions are not registered');
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
for (const [b, h, w, ci, co] of [[16, 32, 32, 16, 16], [16, 48, 48, 16, 16], [16, 32, 32, 32, 32], [1, 180, 320, 16, 16]]) {
  const x = tf.randomNormal([b, h, w, ci]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
  const bias = tf.randomNormal([co]) as tf.Tensor1D;
  const dy = tf.randomNormal([b, h, w, co]) as tf.Tensor4D;
  const ops: Record<string, () => tf.Tensor> = {
    forward: () => tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias }),
    'input gradient': () => tf.conv2dTranspose(dy, f, [b, h, w, ci], 1, 'same'),
  };
  for (const [name, op] of Object.entries(ops)) {
    const cpu: Record<string, number[]> = { simd: [], xnnpack: [] };
    const out: Record<string, Float32Array> = {};
    for (let r = 0; r < Number(args.rounds); r++) {
      for (const simd of [true, false]) {
        use(simd);
        const key = simd ? 'simd' : 'xnnpack';
        const c0 = process.cpuUsage();
        for (let i = 0; i < Number(args.calls); i++) op().dispose();
        const c = process.cpuUsage(c0);
        cpu[key].push((c.user + c.system) / 1000 / Number(args.calls));
        if (r === 0) out[key] = op().dataSync() as Float32Array;
      }
    }
    let maxDiff = 0;
    let maxRef = 0;
    for (let i = 0; i < out.simd.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(out.simd[i] - out.xnnpack[i]));
      maxRef = Math.max(maxRef, Math.abs(out.xnnpack[i]));
    }
    console.log(`[${b},${h},${w},${ci}] 3x3 → ${co} ${name}: SIMD ${median(cpu.simd).toFixed(2)} ms, XNNPACK ${median(cpu.xnnpack).toFixed(2)} ms CPU (${(median(cpu.xnnpack) / median(cpu.simd)).toFixed(2)}×), relative difference ${(maxDiff / maxRef).toExponential(1)}`);
  }
  tf.dispose([x, f, bias, dy]);
}
use(true);
