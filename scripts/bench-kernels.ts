// npm run bench:kernels [-- --reps 5 --steps 5 --no-cpu --profile --activation tanh|relu|prelu --threads N]
//
// GFLOP/s of forward conv, backprop-filter and backprop-input on wasm (sharpen-kd kernels), stock
// tfjs-backend-wasm and cpu for typical SR shapes, then ms per ESPCN-like training step. Repetitions are
// interleaved across targets and medians reported; CPU time is printed next to wall time because the
// machine may be shared.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradients
import { useBackend } from '../src/backends/use-backend';
import { benchmarkConvKernels } from '../src/bench/kernels';
import type { BenchTarget } from '../src/bench/timing';
import { benchmarkTrainingStep, espcnTrainingStep, type BenchActivation } from '../src/bench/training-step';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};

const reps = Number(option('reps', '5'));
const steps = Number(option('steps', '5'));
const threads = args.includes('--threads') ? Number(option('threads', '1')) : undefined;
const activations = option('activation', 'tanh,relu,prelu').split(',') as BenchActivation[];
const withCpu = !flag('no-cpu');

await useBackend('cpu');
await useBackend('wasm', threads ? { threads } : {});
const wasm = await import('@tensorflow/tfjs-backend-wasm');
console.log(`tfjs ${tf.version_core}, wasm threads: ${wasm.getThreadsCount()}, node ${process.version}`);

if (!flag('no-kernels')) {
  const targets: BenchTarget[] = withCpu ? ['wasm', 'wasm-stock', 'cpu'] : ['wasm', 'wasm-stock'];
  const rows = await benchmarkConvKernels({ targets, reps });
  console.log('\nConvolution kernels (median of %d, interleaved; cpu runs batch 1)', reps);
  console.log('shape'.padEnd(26), 'kernel'.padEnd(21), 'target'.padEnd(11), 'batch'.padStart(5), 'ms'.padStart(9), 'cpu ms'.padStart(9), 'GFLOP/s'.padStart(8), 'GF/s(cpu)'.padStart(10));
  for (const r of rows) {
    console.log(
      r.shape.padEnd(26),
      r.kernel.padEnd(21),
      r.target.padEnd(11),
      String(r.batch).padStart(5),
      r.ms.toFixed(1).padStart(9),
      r.cpuMs.toFixed(1).padStart(9),
      r.gflops.toFixed(2).padStart(8),
      r.gflopsCpu.toFixed(2).padStart(10),
    );
  }
}

console.log('\nESPCN-like training step x2 (conv5x5 3->64, conv3x3 64->32, conv3x3 32->12, depthToSpace, L1, Adam), batch 16 of 48x48');
for (const activation of activations) {
  const rows = await benchmarkTrainingStep({ targets: withCpu ? ['wasm', 'cpu'] : ['wasm'], activation, steps });
  for (const r of rows) {
    const note = r.batch !== 16 ? ` (ran batch ${r.batch}: ${r.ms.toFixed(0)} ms, scaled x${16 / r.batch})` : '';
    console.log(`  ${activation.padEnd(6)} ${r.target.padEnd(5)} ${r.msAtFullBatch.toFixed(0).padStart(7)} ms/step  (cpu time ${((r.cpuMs * 16) / r.batch).toFixed(0)} ms)${note}`);
  }
}

if (flag('profile')) {
  await tf.setBackend('wasm');
  for (const activation of activations) {
    const net = espcnTrainingStep({ activation });
    await net.step();
    const prof = await tf.profile(async () => {
      await net.step();
    });
    const agg = new Map<string, { ms: number; n: number }>();
    for (const k of prof.kernels) {
      const a = agg.get(k.name) ?? { ms: 0, n: 0 };
      a.ms += Number(await k.kernelTimeMs);
      a.n++;
      agg.set(k.name, a);
    }
    net.dispose();
    console.log(`\nwasm kernel profile, ${activation} (tf.profile, one step):`);
    for (const [name, a] of [...agg].sort((p, q) => q[1].ms - p[1].ms).slice(0, 14)) {
      console.log(`  ${name.padEnd(28)} ${a.ms.toFixed(1).padStart(7)} ms  x${a.n}`);
    }
  }
}
