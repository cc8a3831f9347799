/**
 * Interleaved A/B of the ONNX graph layout a Student runs on ONNX Runtime: planar (NCHW, the default: tiles are read
 * and written planar by the pixel passes, the graph has no Transpose) against interleaved (NHWC: a Transpose at each
 * end of the graph). Each variant is timed end to end as `Student.sharpenPixels` runs a frame: 8-bit RGB in, readTile,
 * the ONNX session, writeRows, 8-bit RGB out (1280×720 output), and also the session alone; wall ms and CPU ms per
 * frame (process CPU time: ONNX Runtime's threads included).
 *
 * Usage: npx tsx scripts/bench-ort-layout.ts [--models x4,x2,x1] [--rounds 8] [--per 5] [--threads N]
 * Run on an idle machine for publishable numbers; on a busy one only the same-run ratios mean something.
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createOnnxRunner } from '../src/backends/onnx-runner';
import { builtinModelLocation } from '../src/infer/registry';
import { runTiled, type TileRunner } from '../src/infer/tile-engine';
import type { RawImage } from '../src/io/raw-image';
import { loadModel } from '../src/io/model-io';

const { values: args } = parseArgs({
  options: { models: { type: 'string', default: 'x4,x2,x1' }, rounds: { type: 'string', default: '8' }, per: { type: 'string', default: '5' }, threads: { type: 'string' } },
});
await tf.setBackend('cpu');
const ROUNDS = Number(args.rounds);
const PER = Number(args.per);
const threads = args.threads ? Number(args.threads) : undefined;
const [OUT_W, OUT_H] = [1280, 720];
const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
console.log(`${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} vCPUs, Node ${process.version}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(' / ')}`);

for (const name of args.models!.split(',')) {
  const model = await loadModel(await builtinModelLocation(name as 'x4'));
  const scale = Number(/^x(\d)/.exec(name)![1]);
  const [h, w] = [OUT_H / scale, OUT_W / scale];
  const src: RawImage<Uint8Array> = { data: new Uint8Array(h * w * 3).map((_, i) => (i * 2654435761) >>> 24), width: w, height: h, channels: 3 };
  const dst: RawImage<Uint8Array> = { data: new Uint8Array(OUT_W * OUT_H * 3), width: OUT_W, height: OUT_H, channels: 3 };
  const variants = new Map<string, () => Promise<unknown>>();
  for (const layout of ['nchw', 'nhwc'] as const) {
    const r = await createOnnxRunner(model, { threads, layout });
    const runner: TileRunner = {
      scale,
      channels: [3],
      layout,
      run: async (tile, th, tw, c) => (await r.run(tile, layout === 'nchw' ? [1, c, th, tw] : [1, th, tw, c])).data,
      dispose: () => void r.dispose(),
    };
    const frame = new Float32Array(h * w * 3).fill(0.5);
    variants.set(`${layout}: 8-bit frame in → 8-bit frame out`, () => runTiled(runner, src, dst, 'color', { tile: Math.max(h, w), margin: 0, feather: 1, align: 1 }));
    variants.set(`${layout}: the ONNX session alone`, () => r.run(frame, layout === 'nchw' ? [1, 3, h, w] : [1, h, w, 3]));
  }
  const wall = new Map([...variants.keys()].map((k) => [k, [] as number[]]));
  const cpu = new Map([...variants.keys()].map((k) => [k, [] as number[]]));
  for (const run of variants.values()) for (let i = 0; i < 3; i++) await run();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, run] of variants) {
      for (let i = 0; i < PER; i++) {
        const [c0, t0] = [cpuMs(), performance.now()];
        await run();
        wall.get(k)!.push(performance.now() - t0);
        cpu.get(k)!.push(cpuMs() - c0);
      }
    }
  }
  console.log(`\n${name} (x${scale}) at ${OUT_W}x${OUT_H} output, ${ROUNDS} rounds x ${PER} frames, load average now ${os.loadavg()[0].toFixed(2)}`);
  console.log('| variant | median ms | p10 ms | p90 ms | fps | CPU ms (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const k of variants.keys()) {
    const t = wall.get(k)!;
    console.log(`| ${k} | ${pct(t, 50).toFixed(1)} | ${pct(t, 10).toFixed(1)} | ${pct(t, 90).toFixed(1)} | ${(1000 / pct(t, 50)).toFixed(1)} | ${pct(cpu.get(k)!, 50).toFixed(1)} |`);
  }
  const ratio = (a: string, b: string) => (pct(wall.get(b)!, 50) / pct(wall.get(a)!, 50)).toFixed(3);
  console.log(`nchw / nhwc frame rate, end to end: ${ratio('nchw: 8-bit frame in → 8-bit frame out', 'nhwc: 8-bit frame in → 8-bit frame out')}×; session alone: ${ratio('nchw: the ONNX session alone', 'nhwc: the ONNX session alone')}×`);
  model.dispose();
}
