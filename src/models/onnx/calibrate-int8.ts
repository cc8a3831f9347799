/**
 * Calibration for `quantize-int8.ts`: the float graph is run on ONNX Runtime with every tensor to be quantized as an
 * extra output, over LR images made from HR training images with the evaluation protocol's own degradation (MATLAB
 * bicubic at scale > 1, the blind ×1 degradation at scale 1, under a seed of its own). Two passes: the range of each
 * tensor, then a histogram over that range, from which `pickRange` derives the quantization range by min/max,
 * percentile or MSE.
 *
 * Node only (reads image files; runs onnxruntime-node).
 */
import { createOnnxRunner } from '../../backends/onnx-runner';
import { Rng } from '../../core/rng';
import { encodeOnnxModel, OnnxGraph } from './onnx-model';
import { pickRange, planInt8, type Int8PlanOptions, type RangeMethod, type TensorHistogram, type TensorRange } from './quantize-int8';

/** One NCHW float image (values in [0, 1]) to calibrate with. */
export interface CalibrationInput {
  data: Float32Array;
  dims: [number, number, number, number];
}

/** Seed of the ×1 degradations of calibration images (the evaluation's blind protocol uses 1). */
export const CALIBRATION_X1_SEED = 7;

/**
 * @internal LR calibration patches: for each HR image of `hrDirs` (in listing order, at most `limit`), the protocol's
 * LR input for `scale` (`protocolReference` + `bicubicInput`, or the blind ×1 degradation with
 * {@link CALIBRATION_X1_SEED}), then one `size`×`size` crop (the whole LR image when smaller) at a seeded position.
 */
export async function calibrationInputs(hrDirs: readonly string[], scale: number, opts: { size?: number; limit?: number; seed?: number } = {}): Promise<CalibrationInput[]> {
  const [{ listImageFiles }, { readImageAsStored }, { protocolReference, bicubicInput }, { degradeX1 }, path] = await Promise.all([
    import('../../io/image-files'),
    import('../../io/node-image'),
    import('../../metrics/protocol'),
    import('../../data/x1-protocol'),
    import('node:path'),
  ]);
  const size = opts.size ?? 96;
  const rng = new Rng(opts.seed ?? 1);
  const files = (await Promise.all(hrDirs.map((d) => listImageFiles(d)))).flat().slice(0, opts.limit ?? Infinity);
  const out: CalibrationInput[] = [];
  for (const file of files) {
    const { rgb } = protocolReference(await readImageAsStored(file), scale);
    const name = path.basename(file, path.extname(file));
    const lr = scale > 1 ? bicubicInput(rgb, scale) : (await degradeX1(rgb, name, { protocol: 'blind', seed: CALIBRATION_X1_SEED })).lr;
    const [h, w] = [Math.min(size, lr.height), Math.min(size, lr.width)];
    const y0 = Math.floor(rng.next() * (lr.height - h + 1));
    const x0 = Math.floor(rng.next() * (lr.width - w + 1));
    const max = lr.data instanceof Uint16Array ? 65535 : 255;
    const data = new Float32Array(3 * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = ((y0 + y) * lr.width + x0 + x) * lr.channels;
        for (let c = 0; c < 3; c++) data[c * h * w + y * w + x] = lr.data[s + Math.min(c, lr.channels - 1)] / max;
      }
    }
    out.push({ data, dims: [1, 3, h, w] });
  }
  return out;
}

/** `g` with `extra` tensors as additional (rank-4, symbolic) graph outputs. */
function withOutputs(g: OnnxGraph, extra: readonly string[]): OnnxGraph {
  const c = new OnnxGraph();
  c.nodes.push(...g.nodes);
  c.initializers.push(...g.initializers);
  c.inputs.push(...g.inputs);
  c.outputs.push(...g.outputs, ...extra.map((t, i) => ({ name: t, dims: ['N', `c${i}`, `h${i}`, `w${i}`] })));
  return c;
}

/**
 * @internal Runs the float graph `g` over `inputs` and returns, for every tensor `quantizeGraphInt8` (with the same
 * plan options) needs a calibrated range for, a histogram of its values (`bins` bins over its observed [min, max]).
 */
export async function calibrationHistograms(g: OnnxGraph, inputs: readonly CalibrationInput[], opts: Int8PlanOptions & { bins?: number; threads?: number } = {}): Promise<Map<string, TensorHistogram>> {
  const plan = planInt8(g, opts);
  const tensors = plan.tensors.filter((t) => !plan.fixed.has(t));
  const bytes = encodeOnnxModel(withOutputs(g, tensors), { graphName: 'calibration', opset: 17, producerVersion: '0.0.0', metadata: { layout: 'nchw' } });
  const runner = await createOnnxRunner(bytes, { threads: opts.threads, spinning: false });
  const bins = opts.bins ?? 2048;
  const hist = new Map<string, TensorHistogram>(tensors.map((t) => [t, { min: Infinity, max: -Infinity, counts: new Float64Array(bins) }]));
  try {
    for (const pass of [0, 1]) {
      for (const x of inputs) {
        const outs = await runner.runAll(x.data, x.dims);
        for (const t of tensors) {
          const h = hist.get(t)!;
          const v = outs[t].data;
          if (pass === 0) {
            for (let i = 0; i < v.length; i++) {
              if (v[i] < h.min) h.min = v[i];
              if (v[i] > h.max) h.max = v[i];
            }
          } else {
            const k = h.max > h.min ? bins / (h.max - h.min) : 0;
            for (let i = 0; i < v.length; i++) h.counts[Math.min(bins - 1, Math.floor((v[i] - h.min) * k))]++;
          }
        }
      }
    }
  } finally {
    await runner.dispose();
  }
  return hist;
}

/** @internal The range of every calibrated tensor by `method` (see `pickRange`). */
export function rangesFrom(hist: ReadonlyMap<string, TensorHistogram>, method: RangeMethod): Map<string, TensorRange> {
  return new Map([...hist].map(([t, h]) => [t, pickRange(h, method)]));
}
