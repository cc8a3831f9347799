/**
 * Post-training int8 quantization of an exported student graph (planar NCHW, `target: 'ort-cpu'`) in the QDQ format
 * that ONNX Runtime's CPU provider fuses into integer kernels (QLinearConv, QLinearAdd).
 *
 * What is quantized, and how:
 * - Every Conv with constant weights: int8 weights, per output channel, symmetric (scale = max|w| / 127, zero point
 *   0, `DequantizeLinear` with `axis: 0`); the bias as int32 with scale input scale × weight scale (zero point 0), the
 *   form ONNX Runtime's Conv selector wants (a float bias would keep the Conv in float).
 * - The PReLU in its `ort-cpu` form (depthwise 1×1 conv + Relu + Add, `ort-cpu.ts`): the depthwise conv is quantized
 *   like the others (its per-channel weights, a − 1 or ±1, are exactly ±127 in int8), the Relu is left between the
 *   conv and a QuantizeLinear whose zero point is the type's minimum, which ONNX Runtime removes (the clamp at 0 is
 *   then the quantization's own), and the Add reads and writes quantized tensors (QLinearAdd).
 * - A one-slope PReLU (`LeakyRelu`) reads and writes quantized tensors (QLinearLeakyRelu).
 * - Activations: per tensor, asymmetric, uint8 or int8 (`activations`), one QuantizeLinear → DequantizeLinear pair per
 *   tensor, every consumer reading the DequantizeLinear. The image input (and, for the ×1 net, its edge padding and
 *   pixel-unshuffle) has the fixed range [0, 1] → scale 1/255: exact for 8-bit images. Every other range comes from
 *   calibration (`calibrate-int8.ts`), reduced to one range per tensor by {@link pickRange}.
 * - Kept in float: everything outside the conv body, i.e. the pixel shuffle (DepthToSpace, fed by the DequantizeLinear
 *   of the last conv's output), the bilinear or nearest residual (Resize, Add) and the ×1 net's shape arithmetic,
 *   padding and crop.
 *
 * `scripts/bench-int8.ts` measures what this costs in quality and gains in speed.
 */
import { attr, OnnxGraph, type OnnxNode } from './onnx-model';

/** Activation integer type: uint8 (ONNX Runtime's u8s8 path on x86) or int8. */
export type ActivationType = 'uint8' | 'int8';

/**
 * How a tensor's calibrated values are reduced to one range: `minmax` (the observed extremes), `percentile` (all but
 * 1e-4 of the values at each end) or `mse` (the shrunk range with the least expected squared quantization error).
 *
 * @example
 * ```ts
 * await writeStudentOnnxInt8('runs/x2/model-last', { calibration: ['data/T91/HR'], method: 'percentile' satisfies RangeMethod });
 * ```
 */
export type RangeMethod = 'minmax' | 'percentile' | 'mse';

/** @internal Every {@link RangeMethod}. */
export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'mse'];

/** A float range `[min, max]` that an activation tensor is quantized over (it always gets widened to include 0). */
export interface TensorRange {
  min: number;
  max: number;
}

/** @internal Which parts of a graph {@link quantizeGraphInt8} turns into integers. */
export interface Int8Plan {
  /** The nodes that run on integers (Conv, Relu before a QuantizeLinear, LeakyRelu, Add). */
  nodes: Set<OnnxNode>;
  /** Every activation tensor that gets a QuantizeLinear → DequantizeLinear pair, in graph order. */
  tensors: string[];
  /** Tensors whose range is fixed, not calibrated (the image input: [0, 1]). */
  fixed: Map<string, TensorRange>;
  /** Relu outputs: their range starts at exactly 0, so that ONNX Runtime can drop the Relu. */
  nonNegative: Set<string>;
}

/** Ops that only move pixels of the image input around (their output stays in the input's [0, 1]). */
const PIXEL_MOVES = new Set(['Pad', 'SpaceToDepth', 'Identity', 'Transpose']);

/** What {@link planInt8} leaves in float besides the tail. */
export interface Int8PlanOptions {
  /**
   * Keep the convs that read the image itself (3 input channels, or 48 after the ×1 net's pixel-unshuffle) in float,
   * quantizing their output instead (default false). ONNX Runtime's int8 conv is slow at 3 input channels.
   */
  floatInputConv?: boolean;
  /**
   * Keep the convs whose output leaves the body (the last conv, before the pixel shuffle) in float, reading the
   * dequantized body (default false): the detail they output is then not rounded to 256 levels.
   */
  floatOutputConv?: boolean;
  /**
   * Keep the first layer in float: the convs that read the image and the PReLU after each (its depthwise convs, Relu
   * and Add), quantizing the PReLU's output (default false). The first conv's output has the widest range of the
   * body, so its 256 levels are the coarsest: on the shipped `x2` it alone cost 0.11 of the 0.26 dB int8 lost
   * (`lab/scripts/qat-int8.ts --sensitivity`).
   */
  floatFirstLayer?: boolean;
}

/** @internal Finds the conv body of a student graph: what {@link quantizeGraphInt8} quantizes (see the file comment). */
export function planInt8(g: OnnxGraph, opts: Int8PlanOptions = {}): Int8Plan {
  const consts = new Set(g.initializers.map((t) => t.name));
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of g.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i !== '') consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const nodes = new Set<OnnxNode>();
  for (const n of g.nodes) {
    const from = (t: string) => producer.get(t);
    if (n.op === 'Conv' && consts.has(n.inputs[1]) && !consts.has(n.inputs[0]) && (n.inputs.length < 3 || consts.has(n.inputs[2]))) nodes.add(n);
    else if (n.op === 'Relu' && from(n.inputs[0])?.op === 'Conv' && nodes.has(from(n.inputs[0])!)) nodes.add(n);
    else if (n.op === 'LeakyRelu' && from(n.inputs[0])?.op === 'Conv' && nodes.has(from(n.inputs[0])!)) nodes.add(n);
    else if (n.op === 'Add' && n.inputs.length === 2 && n.inputs.every((t) => from(t) !== undefined && nodes.has(from(t)!))) nodes.add(n);
  }
  const graphInputs = new Set(g.inputs.map((v) => v.name));
  /** Whether `t` is the image input, or the input moved around by PIXEL_MOVES. */
  const isImage = (t: string): boolean => {
    if (graphInputs.has(t)) return true;
    const p = producer.get(t);
    return p !== undefined && PIXEL_MOVES.has(p.op) && isImage(p.inputs[0]);
  };
  if (opts.floatInputConv) for (const n of [...nodes]) if (n.op === 'Conv' && isImage(n.inputs[0])) nodes.delete(n);
  if (opts.floatFirstLayer) {
    const inputConvs = [...nodes].filter((n) => n.op === 'Conv' && isImage(n.inputs[0]));
    // The PReLU's nodes downstream of each: Relu, Add and depthwise (grouped) convs, up to the next full conv.
    const depthwise = (n: OnnxNode) => n.op === 'Conv' && n.attrs.group?.kind === 'int' && n.attrs.group.value > 1;
    const todo = inputConvs.flatMap((n) => n.outputs);
    for (const n of inputConvs) nodes.delete(n);
    while (todo.length) {
      for (const c of consumers.get(todo.pop()!) ?? []) {
        if (nodes.has(c) && (c.op === 'Relu' || c.op === 'LeakyRelu' || c.op === 'Add' || depthwise(c))) {
          nodes.delete(c);
          todo.push(...c.outputs);
        }
      }
    }
  }
  if (opts.floatOutputConv) {
    for (const n of [...nodes]) if (n.op === 'Conv' && n.outputs.some((o) => (consumers.get(o) ?? []).some((c) => !nodes.has(c)))) nodes.delete(n);
  }
  const tensors: string[] = [];
  const seen = new Set<string>();
  const fixed = new Map<string, TensorRange>();
  const nonNegative = new Set<string>();
  const take = (t: string) => {
    if (seen.has(t)) return;
    seen.add(t);
    tensors.push(t);
  };
  for (const n of g.nodes) {
    if (!nodes.has(n)) continue;
    // Activation inputs produced outside the body (the image): quantized before the node.
    const acts = n.op === 'Conv' ? [n.inputs[0]] : n.op === 'Add' ? n.inputs : [];
    for (const t of acts) {
      const p = producer.get(t);
      if (p && nodes.has(p)) continue; // quantized at its producer
      if (isImage(t)) fixed.set(t, { min: 0, max: 1 });
      take(t); // the image, or the output of a conv kept in float: calibrated

    }
    for (const o of n.outputs) {
      const uses = consumers.get(o) ?? [];
      // A conv output read only by Relus stays float: the Relu output is quantized (and the Relu dropped by ORT).
      if (n.op === 'Conv' && uses.length > 0 && uses.every((c) => c.op === 'Relu' && nodes.has(c))) continue;
      if (n.op === 'Relu') nonNegative.add(o);
      take(o);
    }
  }
  return { nodes, tensors, fixed, nonNegative };
}

/** @internal Scale and zero point of a range for `type` (asymmetric; the range is widened to include 0). */
export function activationParams(r: TensorRange, type: ActivationType): { scale: number; zeroPoint: number } {
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  const lo = Math.min(r.min, 0);
  let hi = Math.max(r.max, 0);
  if (!(hi - lo > 1e-12)) hi = lo + 1e-6;
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** @internal Per-output-channel symmetric int8 weights of a conv weight `[Cout, ...]`: values and scales. */
export function quantizeWeights(w: Float32Array, cout: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / cout;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(cout);
  for (let c = 0; c < cout; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    const s = Math.fround(m > 0 ? m / 127 : 1);
    scales[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / s)));
  }
  return { q, scales };
}

/** Options of {@link quantizeGraphInt8}. */
export interface QuantizeInt8Options extends Int8PlanOptions {
  /** Integer type of the activations (default `'uint8'`). */
  activations?: ActivationType;
}

/**
 * @internal The QDQ int8 version of `g` (a new graph; `g` is left as it is). `ranges` gives the calibrated range of
 * every tensor of `planInt8(g).tensors` that has no fixed range (see `calibrate-int8.ts`).
 *
 * @throws Error when a range is missing, or a conv weight or bias is not a float constant.
 */
export function quantizeGraphInt8(g: OnnxGraph, ranges: ReadonlyMap<string, TensorRange>, opts: QuantizeInt8Options = {}): OnnxGraph {
  const type = opts.activations ?? 'uint8';
  const plan = planInt8(g, opts);
  const q = new OnnxGraph();
  // Reserve every name of the float graph so that new tensors and nodes never collide with one.
  for (const n of g.nodes) [n.name, ...n.outputs, ...n.inputs].forEach((s) => s !== '' && q.unique(s));
  for (const t of g.initializers) q.unique(t.name);
  for (const v of [...g.inputs, ...g.outputs]) q.unique(v.name);
  q.inputs.push(...g.inputs);
  q.outputs.push(...g.outputs);
  const init = new Map(g.initializers.map((t) => [t.name, t]));
  const replaced = new Set<string>();

  const params = new Map<string, { scale: number; zeroPoint: number }>();
  for (const t of plan.tensors) {
    let r = plan.fixed.get(t) ?? ranges.get(t);
    if (!r) throw new Error(`int8: no calibrated range for tensor ${t}`);
    if (plan.nonNegative.has(t)) r = { min: 0, max: r.max };
    params.set(t, activationParams(r, type));
  }
  const zpData = (v: number) => (type === 'uint8' ? Uint8Array.of(v) : Int8Array.of(v));
  /** DequantizeLinear output of each quantized tensor. */
  const dq = new Map<string, string>();
  const quantizeTensor = (t: string) => {
    const { scale, zeroPoint } = params.get(t)!;
    const s = q.floatConst(`${t}/q_scale`, [], [scale]);
    const z = q.tensorConst(`${t}/q_zero`, [], zpData(zeroPoint));
    const tq = q.add('QuantizeLinear', [t, s, z], `${t}_q`);
    dq.set(t, q.add('DequantizeLinear', [tq, s, z], `${t}_dq`));
  };
  const producedInBody = new Set(g.nodes.filter((n) => plan.nodes.has(n)).flatMap((n) => n.outputs));
  const floatConst = (name: string) => {
    const t = init.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`int8: ${name} is not a float constant`);
    return t as typeof t & { data: Float32Array };
  };

  // Tensors quantized before any node (the graph input).
  for (const t of plan.tensors) if (!g.nodes.some((n) => n.outputs.includes(t))) quantizeTensor(t);
  for (const n of g.nodes) {
    let inputs = n.inputs;
    if (plan.nodes.has(n) && n.op === 'Conv') {
      const x = dq.get(n.inputs[0]);
      if (!x) throw new Error(`int8: the input of ${n.name} is not quantized`);
      const w = floatConst(n.inputs[1]);
      const cout = w.dims[0];
      const { q: wq, scales } = quantizeWeights(w.data, cout);
      const axis = { axis: attr.int(0) };
      const ws = q.floatConst(`${w.name}/scale`, [cout], scales);
      const wz = q.tensorConst(`${w.name}/zero`, [cout], new Int8Array(cout));
      const wDq = q.add('DequantizeLinear', [q.tensorConst(`${w.name}/int8`, w.dims, wq), ws, wz], `${w.name}_dq`, axis);
      replaced.add(w.name);
      inputs = [x, wDq];
      if (n.inputs.length > 2 && n.inputs[2] !== '') {
        const b = floatConst(n.inputs[2]);
        const sx = params.get(n.inputs[0])!.scale;
        const bs = Float32Array.from(scales, (s) => Math.fround(sx * s));
        const bq = Int32Array.from(b.data, (v, c) => Math.round(v / bs[c]));
        const bDq = q.add('DequantizeLinear', [q.tensorConst(`${b.name}/int32`, [cout], bq), q.floatConst(`${b.name}/scale`, [cout], bs), q.tensorConst(`${b.name}/zero`, [cout], new Int32Array(cout))], `${b.name}_dq`, axis);
        replaced.add(b.name);
        inputs.push(bDq);
      }
    } else if (plan.nodes.has(n) && (n.op === 'Add' || n.op === 'LeakyRelu')) {
      inputs = n.inputs.map((t) => dq.get(t) ?? t);
    } else if (!plan.nodes.has(n)) {
      // Consumers outside the body read the dequantized value of a body tensor (the body's producer feeds only its
      // QuantizeLinear, or ORT could not fuse it), and the float original of anything else (the image for the residual).
      inputs = n.inputs.map((t) => (producedInBody.has(t) && dq.has(t) ? dq.get(t)! : t));
    }
    q.nodes.push({ ...n, inputs });
    for (const o of n.outputs) if (params.has(o)) quantizeTensor(o);
  }
  const used = new Set(q.nodes.flatMap((n) => n.inputs));
  for (const t of g.initializers) if (!replaced.has(t.name) || used.has(t.name)) q.initializers.push(t);
  // New initializers were pushed while building; keep the float ones first for readability.
  q.initializers.sort((a, b) => Number(init.has(b.name)) - Number(init.has(a.name)));
  return q;
}

/**
 * @internal A histogram of one tensor's calibrated values over `[min, max]` (from a first pass), `counts.length` bins.
 */
export interface TensorHistogram {
  min: number;
  max: number;
  counts: Float64Array;
}

/** The value below which a fraction `p` of the histogram's mass lies (linear within a bin). */
function quantile(h: TensorHistogram, p: number): number {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const width = (h.max - h.min) / h.counts.length;
  let acc = 0;
  for (let i = 0; i < h.counts.length; i++) {
    if (acc + h.counts[i] >= p * total) return h.min + (i + (h.counts[i] > 0 ? (p * total - acc) / h.counts[i] : 0)) * width;
    acc += h.counts[i];
  }
  return h.max;
}

/** Percentile of {@link pickRange}: the range keeps all but this fraction of values at each end. */
export const PERCENTILE_TAIL = 1e-4;

/**
 * @internal One range for a tensor from its calibration histogram:
 * - `minmax`: the observed minimum and maximum;
 * - `percentile`: the {@link PERCENTILE_TAIL} and 1 − {@link PERCENTILE_TAIL} quantiles (outliers clipped);
 * - `mse`: the range, among shrunk versions of [min, max] (each end scaled by 1/64 … 64/64 independently), that
 *   minimises the expected squared error of quantizing the histogram's values with `levels` levels: clipping error
 *   outside the range, step²/12 rounding error inside.
 */
export function pickRange(h: TensorHistogram, method: RangeMethod, levels = 256): TensorRange {
  if (method === 'minmax' || h.max <= h.min) return { min: h.min, max: h.max };
  if (method === 'percentile') return { min: h.min < 0 ? quantile(h, PERCENTILE_TAIL) : h.min, max: h.max > 0 ? quantile(h, 1 - PERCENTILE_TAIL) : h.max };
  const n = h.counts.length;
  const width = (h.max - h.min) / n;
  const lo0 = Math.min(h.min, 0);
  const hi0 = Math.max(h.max, 0);
  const STEPS = 64;
  let best = { min: h.min, max: h.max };
  let bestErr = Infinity;
  for (let a = 1; a <= STEPS; a++) {
    const lo = lo0 < 0 ? (lo0 * a) / STEPS : 0;
    if (lo0 >= 0 && a > 1) break;
    for (let b = 1; b <= STEPS; b++) {
      const hi = hi0 > 0 ? (hi0 * b) / STEPS : 0;
      if (hi0 <= 0 && b > 1) break;
      const step = (hi - lo) / (levels - 1);
      const inside = (step * step) / 12;
      let err = 0;
      for (let i = 0; i < n; i++) {
        const c = h.counts[i];
        if (c === 0) continue;
        const v = h.min + (i + 0.5) * width;
        const d = v < lo ? lo - v : v > hi ? v - hi : 0;
        err += c * (d > 0 ? d * d : inside);
      }
      if (err < bestErr) {
        bestErr = err;
        best = { min: lo, max: hi };
      }
    }
  }
  return best;
}
