/**
 * Int8 quantization (QDQ, `src/models/onnx/quantize-int8.ts`) of the shipped students against their float graphs on
 * ONNX Runtime's CPU provider: what it costs in quality and what it gains in speed.
 *
 * For each model: the float graph is the shipped `model.onnx` rebuilt from the model files (`studentOnnxGraph`; the
 * script checks it is byte-identical to the shipped file). Calibration: one LR crop (96×96 at most) of each of the
 * first `--calib` HR images of T91 then BSDS200, made with the evaluation protocol's degradation
 * (`calibrate-int8.ts`). Each range method (`--methods`: minmax, percentile, mse) gives one int8 graph (uint8
 * activations).
 *
 * Quality: every graph (float and int8) is written as `model.onnx` into a temporary copy of the model folder and
 * scored with `Student.load(<folder>, { backend: 'onnx' })` + `evaluateStudent` on Set5 and Set14 (the library's
 * protocol: Y-PSNR / Y-SSIM; ×1 on the blind degradation, seed 1), i.e. the same code path as `sharpen-kd eval`.
 * The best range method is the one with the smallest mean PSNR drop over Set5 and Set14 (so it is chosen on the
 * test sets; every method's row is printed). With it, three more graphs keep the input conv, the output conv, or
 * both in float (`floatInputConv`, `floatOutputConv`), and one keeps the first layer, conv and PReLU, in float
 * (`floatFirstLayer`).
 *
 * Speed: the ONNX session alone, with the session options `createOnnxRunner` gives Student (graph optimization
 * `all`, `--threads` intra-op threads, spinning), at 1280×720 output (×4: 320×180 input, ×2: 640×360, ×1:
 * 1280×720): float against the best method's int8 graphs (uint8 activations; the partly float ones; int8
 * activations, which ONNX Runtime on x86 fuses only with the session entry `session.qdqisint8allowed`, so both with
 * and without it), interleaved (as `scripts/interleaved-ab.ts`, with one untimed frame at the start of each block), `--rounds` × `--per` frames each. Ratios are float
 * median / int8 median (> 1: int8 is faster), and the median of the per-round ratios. The load average is printed
 * next to the timings: on a busy machine only the ratios mean something. With `--skip-eval` the first of
 * `--methods` is taken as the best one (e.g. `--skip-eval --methods mse` to time the mse graphs only).
 *
 * Fusion check: ONNX Runtime's optimized graph of each int8 session (`optimizedModelFilePath`) is read back and its
 * op types counted (QLinearConv / QLinearAdd mean integer kernels).
 *
 * Usage: npx tsx scripts/bench-int8.ts [--models x4,x2,x1] [--methods minmax,percentile,mse] [--calib 291]
 *   [--rounds 8] [--per 5] [--threads 2] [--skip-eval] [--skip-time] [--keep <dir>]
 * (`--keep` leaves the int8 model folders there, e.g. for `lab/scripts/profile-ort.ts`.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateStudent } from '../src/infer/evaluate';
import { builtinModelLocation } from '../src/infer/registry';
import { Student } from '../src/infer/student';
import { studentOnnxGraph } from '../src/infer/student-onnx-build';
import { modelSourceHash, STUDENT_ONNX_FILE } from '../src/infer/student-onnx';
import { loadModel } from '../src/io/model-io';
import { calibrationHistograms, calibrationInputs, rangesFrom } from '../src/models/onnx/calibrate-int8';
import { encodeOnnxModel } from '../src/models/onnx/onnx-model';
import { readOnnxNodes } from '../src/models/onnx/proto';
import { quantizeGraphInt8, type QuantizeInt8Options, type RangeMethod } from '../src/models/onnx/quantize-int8';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'x4,x2,x1' },
    methods: { type: 'string', default: 'minmax,percentile,mse' },
    calib: { type: 'string', default: '291' },
    rounds: { type: 'string', default: '8' },
    per: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    'skip-eval': { type: 'boolean', default: false },
    'skip-time': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});
await tf.setBackend('cpu');
const DATA = '/work/shared/data';
const EVAL_SETS = ['Set5', 'Set14'];
const CALIB_DIRS = [`${DATA}/T91/HR`, `${DATA}/BSDS200/HR`];
const methods = args.methods!.split(',') as RangeMethod[];
const threads = Number(args.threads);
const [OUT_W, OUT_H] = [1280, 720];
const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' / ');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} vCPUs, Node ${process.version}, onnxruntime-node ${(await import('onnxruntime-node/package.json', { with: { type: 'json' } })).default.version}, load average ${load()}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skd-int8-'));
const qualityRows: string[] = [];
const speedRows: string[] = [];
const fusionRows: string[] = [];

/** A copy of the model folder with `bytes` as its model.onnx. */
function modelFolder(src: string, name: string, bytes: Uint8Array): string {
  const dir = path.join(args.keep ?? work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(src)) if (f !== STUDENT_ONNX_FILE) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, STUDENT_ONNX_FILE), bytes);
  return dir;
}

/**
 * Interleaved timing like `interleavedTimes` (`scripts/interleaved-ab.ts`), plus one untimed frame at the start of
 * each variant's block: switching sessions leaves the first frame of a block slower (the other sessions' spinning
 * workers), which the medians should not mix in.
 */
async function blockTimes(variants: Map<string, () => Promise<unknown>>, rounds: number, per: number): Promise<Map<string, number[]>> {
  const times = new Map([...variants.keys()].map((k) => [k, [] as number[]]));
  for (const run of variants.values()) for (let i = 0; i < 3; i++) await run();
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of variants) {
      await run();
      for (let i = 0; i < per; i++) {
        const t0 = performance.now();
        await run();
        times.get(k)!.push(performance.now() - t0);
      }
    }
  }
  return times;
}

/** Op type counts of ONNX Runtime's optimized version of `bytes`. */
async function optimizedOps(bytes: Uint8Array, config: Record<string, string> = {}): Promise<Map<string, number>> {
  const ort = await import('onnxruntime-node');
  const file = path.join(work, `optimized-${process.hrtime.bigint()}.onnx`);
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: file, logSeverityLevel: 3, extra: { session: config } });
  await s.release();
  const ops = new Map<string, number>();
  for (const n of readOnnxNodes(new Uint8Array(fs.readFileSync(file)))) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  return ops;
}

try {
  for (const name of args.models!.split(',')) {
    const dir = await builtinModelLocation(name as 'x4');
    const model = await loadModel(dir);
    const { graph, encode } = await studentOnnxGraph(model, await modelSourceHash(dir));
    model.dispose();
    const scale = JSON.parse(encode.metadata['sharpen-kd-student']).scale as number;
    const floatBytes = encodeOnnxModel(graph, encode);
    const same = Buffer.compare(Buffer.from(floatBytes), fs.readFileSync(path.join(dir, STUDENT_ONNX_FILE))) === 0;
    console.log(`\n## ${name} (x${scale}): float graph ${same ? 'byte-identical to' : 'DIFFERS from'} the shipped model.onnx`);

    let t0 = performance.now();
    const inputs = await calibrationInputs(CALIB_DIRS, scale, { limit: Number(args.calib) });
    const hist = await calibrationHistograms(graph, inputs, { threads });
    console.log(`calibration: ${inputs.length} LR crops, ${hist.size} tensors, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const int8 = (method: RangeMethod, o: QuantizeInt8Options = {}) => encodeOnnxModel(quantizeGraphInt8(graph, rangesFrom(hist, method), o), encode);

    // Quality: every variant through Student.load + evaluateStudent.
    const scores = new Map<string, { psnr: number; ssim: number }[]>();
    const evaluate = async (k: string, bytes: Uint8Array) => {
      if (args['skip-eval']) return;
      const folder = modelFolder(dir, `${name}-${k.replace(/[ ,]+/g, '-')}`, bytes);
      const student = await Student.load(folder, { backend: 'onnx', threads });
      try {
        if (student.info.backend !== 'onnx') throw new Error(`${folder} did not load its model.onnx`);
        const r: { psnr: number; ssim: number }[] = [];
        for (const set of EVAL_SETS) r.push(await evaluateStudent(student, `${DATA}/${set}/HR`, { scale }));
        scores.set(k, r);
      } finally {
        student.dispose();
      }
      console.log(`${k}: ${scores.get(k)!.map((s, i) => `${EVAL_SETS[i]} ${s.psnr.toFixed(3)} dB / ${s.ssim.toFixed(4)}`).join(', ')}`);
    };
    const variants = new Map<string, Uint8Array>([['float', floatBytes], ...methods.map((m) => [`int8 ${m}`, int8(m)] as [string, Uint8Array])]);
    for (const [k, bytes] of variants) await evaluate(k, bytes);
    // The best range method: the smallest mean PSNR drop over the evaluation sets (chosen on them, see the report).
    const meanDrop = (m: RangeMethod) => scores.get(`int8 ${m}`)!.reduce((a, s, i) => a + scores.get('float')![i].psnr - s.psnr, 0) / EVAL_SETS.length;
    const best = args['skip-eval'] ? methods[0] : methods.reduce((a, m) => (meanDrop(m) < meanDrop(a) ? m : a), methods[0]);
    // With the best method, variants that keep the first and/or the last conv in float.
    const partial: [string, QuantizeInt8Options][] = [
      [`int8 ${best}, input conv float`, { floatInputConv: true }],
      [`int8 ${best}, output conv float`, { floatOutputConv: true }],
      [`int8 ${best}, input and output convs float`, { floatInputConv: true, floatOutputConv: true }],
      [`int8 ${best}, first layer float`, { floatFirstLayer: true }],
    ];
    for (const [k, o] of partial) {
      variants.set(k, int8(best, o));
      await evaluate(k, variants.get(k)!);
    }
    if (!args['skip-eval']) {
      const f = scores.get('float')!;
      for (const [k, s] of scores) {
        const cells = s.map((v, i) => `${v.psnr.toFixed(2)} / ${v.ssim.toFixed(4)} | ${k === 'float' ? '' : (v.psnr - f[i].psnr).toFixed(3)}`);
        qualityRows.push(`| ${name} | ${k}${k === `int8 ${best}` ? ' (best method)' : ''} | ${cells.join(' | ')} |`);
      }
    }

    // Fusion check and speed: float vs the best method's graphs. ONNX Runtime fuses int8 (s8s8) activations on x86
    // only with the session entry `session.qdqisint8allowed` (off by default there), hence two int8-activation rows.
    type Timed = { bytes: Uint8Array; config?: Record<string, string> };
    const timed = new Map<string, Timed>([
      ['float', { bytes: floatBytes }],
      [`int8 ${best}, uint8 activations`, { bytes: variants.get(`int8 ${best}`)! }],
      ...partial.map(([k]) => [`${k}, uint8 activations`, { bytes: variants.get(k)! }] as [string, Timed]),
      [`int8 ${best}, int8 activations`, { bytes: int8(best, { activations: 'int8' }) }],
      [`int8 ${best}, int8 activations, qdqisint8allowed`, { bytes: int8(best, { activations: 'int8' }), config: { qdqisint8allowed: '1' } }],
    ]);
    for (const [k, { bytes, config }] of timed) {
      const ops = await optimizedOps(bytes, config);
      fusionRows.push(`| ${name} | ${k} | ${[...ops].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ')} |`);
    }
    if (args.keep) for (const [k, { bytes }] of timed) if (k !== 'float') modelFolder(dir, `${name}-${k.replace(/[ ,]+/g, '-')}`, bytes);
    if (!args['skip-time']) {
      const [h, w] = [OUT_H / scale, OUT_W / scale];
      const ort = await import('onnxruntime-node');
      const frame = new Float32Array(3 * h * w).map((_, i) => ((i * 2654435761) >>> 24) / 255);
      // The session options createOnnxRunner uses (graph optimization all, intra-op threads, spinning), plus the
      // variant's config entries.
      const sessions = new Map<string, Awaited<ReturnType<typeof ort.InferenceSession.create>>>();
      for (const [k, { bytes, config }] of timed) {
        sessions.set(k, await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: '1' }, ...config } } }));
      }
      const before = load();
      const rounds = Number(args.rounds);
      const per = Number(args.per);
      const times = await blockTimes(new Map([...sessions].map(([k, s]) => [k, () => s.run({ input: new ort.Tensor('float32', frame, [1, 3, h, w]) })])), rounds, per);
      const after = load();
      for (const s of sessions.values()) await s.release();
      const ft = times.get('float')!;
      for (const [k, t] of times) {
        const perRound = Array.from({ length: rounds }, (_, i) => median(ft.slice(i * per, (i + 1) * per)) / median(t.slice(i * per, (i + 1) * per)));
        const ratio = k === 'float' ? '1' : `${(median(ft) / median(t)).toFixed(3)} (per round ${median(perRound).toFixed(3)})`;
        speedRows.push(`| ${name} | ${w}×${h} → ${OUT_W}×${OUT_H} | ${k} | ${median(t).toFixed(1)} | ${Math.min(...t).toFixed(1)} | ${ratio} | ${before} → ${after} |`);
      }
      console.log(speedRows.slice(-timed.size).join('\n'));
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

if (qualityRows.length) {
  console.log(`\n### Quality (Y-PSNR dB / Y-SSIM; Δ = int8 − float, dB; calibration: ${args.calib} images of T91 + BSDS200)\n`);
  console.log(`| model | graph | ${EVAL_SETS.map((s) => `${s} | Δ ${s}`).join(' | ')} |`);
  console.log(`|---|---|${EVAL_SETS.map(() => '---|---').join('|')}|`);
  console.log(qualityRows.join('\n'));
}
if (speedRows.length) {
  console.log(`\n### Speed (ONNX session alone, ${threads} threads, spinning, ${args.rounds} rounds × ${args.per} frames interleaved)\n`);
  console.log('| model | input → output | graph | median ms | min ms | float / int8 | load average (1/5/15 min) before → after |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(speedRows.join('\n'));
}
console.log('\n### ONNX Runtime optimized graphs (op counts)\n');
console.log('| model | graph | ops |');
console.log('|---|---|---|');
console.log(fusionRows.join('\n'));
