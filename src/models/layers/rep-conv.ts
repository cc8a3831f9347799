/**
 * Re-parameterizable 3×3 convolution for training tiny students, after the edge-oriented convolution block of
 * ECBSR (Zhang, Zeng and Zhang, "Edge-oriented Convolution Block for Real-time Super Resolution on Mobile
 * Devices", ACM MM 2021). Several linear branches are trained side by side:
 *
 *   3×3 conv  +  1×1 conv  +  1×1 expand (e·C_out, e = 2 by default) → 3×3 conv, × 2/e  +  Σ over {Sobel-x, Sobel-y, Laplacian} of 1×1 conv → fixed edge filter × learned per-channel scale
 *
 * Because every branch is linear (no inner biases, no activations), their sum is exactly one 3×3 convolution,
 * so the layer computes that merged kernel from its branch weights on every call (a few thousand MACs) and runs a
 * single convolution: training costs about what a plain 3×3 conv costs, while the optimizer sees the
 * over-parameterized branches. {@link reparameterize} turns a trained model into the same graph with plain
 * `Conv2D` layers and the merged weights; that is the model that is saved, exported and shipped.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
import { lazyWasmModule } from '../../core/wasm-simd';
import { tfSeed } from '../blocks';
import { convWithBias } from './conv-with-bias';
import { WASM_BYTES } from './rep-conv-merge-wasm';

type Init = ReturnType<typeof tfl.initializers.heNormal>;

/**
 * Constructor arguments of {@link RepConv2D}.
 *
 * @example
 * ```ts
 * const layer = new RepConv2D({ filters: 16, name: 'body1' } satisfies RepConv2DArgs);
 * ```
 */
export interface RepConv2DArgs {
  /** Output channels. */
  filters: number;
  /** Initializer of the 3×3 branch (default He-normal); the other branches start small. */
  kernelInitializer?: Init;
  /** Seed of the other branches' initializers. */
  seed?: number;
  /**
   * Channel multiplier of the expand → 3×3 branch (default 2, as in ECBSR). Any other value also scales that branch by
   * 2 / expand, so that Adam's steps on it stay those of the default width.
   */
  expand?: number;
  /** Layer name. */
  name?: string;
}

/** Fixed 3×3 edge filters of the edge branches (rows = kernel y, columns = kernel x). */
const EDGE_FILTERS: Record<'sobelX' | 'sobelY' | 'laplacian', number[]> = {
  sobelX: [1, 0, -1, 2, 0, -2, 1, 0, -1],
  sobelY: [1, 2, 1, 0, 0, 0, -1, -2, -1],
  laplacian: [0, 1, 0, 1, -4, 1, 0, 1, 0],
};
const EDGES = Object.keys(EDGE_FILTERS) as (keyof typeof EDGE_FILTERS)[];

/** @internal The branch weights of a {@link RepConv2D}, in its layouts (kernels HWIO, 1×1 weights `[C_in, C_out]`). */
export interface RepBranches {
  k3: tf.Tensor4D;
  k1: tf.Tensor2D;
  /** `[C_in, mid]`. */
  expand: tf.Tensor2D;
  /** `[3, 3, mid, C_out]`. */
  squeeze: tf.Tensor4D;
  /** One `[C_in, C_out]` per edge filter, in {@link EDGES} order. */
  edgeW: tf.Tensor2D[];
  /** One `[C_out]` per edge filter. */
  edgeScale: tf.Tensor1D[];
}

/** Backends whose tensors live in CPU memory, where the merged kernel is one custom op. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * @internal The merged kernel as tensor ops (any backend; the reference of {@link mergeRepKernel}):
 * `K = k3 + pad(k1) + Σ_m E[i, m] S[y, x, m, o] + Σ_e edge_e[y, x] · W_e[i, o] · s_e[o]`.
 */
export function mergeRepKernelOps(b: RepBranches): tf.Tensor4D {
  return tf.tidy(() => {
    const [, , cin, cout] = b.k3.shape;
    const mid = b.expand.shape[1];
    // 1×1 branch: its weights sit at the kernel centre.
    const k1 = tf.pad(tf.reshape(b.k1, [1, 1, cin, cout]), [[1, 1], [1, 1], [0, 0], [0, 0]]);
    // 1×1 expand then 3×3: K[y, x, i, o] = Σ_m E[i, m] S[y, x, m, o].
    const s = tf.reshape(tf.transpose(b.squeeze, [2, 0, 1, 3]), [mid, 9 * cout]);
    const es = tf.transpose(tf.reshape(tf.matMul(b.expand, s), [cin, 3, 3, cout]), [1, 2, 0, 3]);
    let k = tf.addN([b.k3, k1, es]) as tf.Tensor4D;
    // Edge branches: 1×1 conv, then a fixed edge filter scaled per output channel.
    EDGES.forEach((e, j) => {
      const w = tf.mul(b.edgeW[j], b.edgeScale[j]); // [cin, cout] * [cout]
      const mask = tf.tensor4d(EDGE_FILTERS[e], [3, 3, 1, 1]);
      k = tf.add(k, tf.mul(mask, tf.reshape(w, [1, 1, cin, cout])));
    });
    return k;
  });
}

/**
 * @internal The merged kernel of {@link mergeRepKernelOps} as one differentiable custom op computed in plain loops
 * (float64 sums, one float32 rounding per output value), with its gradient (`G` = gradient of the kernel):
 * `dk3 = G`, `dk1 = G[1, 1]`, `dE[i, m] = Σ_yxo G[y, x, i, o] S[y, x, m, o]`, `dS[y, x, m, o] = Σ_i E[i, m] G[y, x, i, o]`,
 * `dW_e[i, o] = s_e[o] · Σ_yx edge_e[y, x] G[y, x, i, o]`, `ds_e[o] = Σ_i W_e[i, o] · Σ_yx edge_e[y, x] G[y, x, i, o]`.
 * Reads its inputs with `dataSync`, so it is meant for the cpu and wasm backends.
 */
export function mergeRepKernel(b: RepBranches): tf.Tensor4D {
  const [, , cin, cout] = b.k3.shape;
  const mid = b.expand.shape[1];
  const dims: MergeDims = { cin, cout, mid, masks: EDGES.map((e) => EDGE_FILTERS[e]) };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, 4 + 2 * EDGES.length) as tf.Tensor[]; // customGrad appends a save function
    const [k3, k1, ex, sq] = inputs.slice(0, 4).map((t) => t.dataSync() as Float32Array);
    const ew = inputs.slice(4, 4 + EDGES.length).map((t) => t.dataSync() as Float32Array);
    const es = inputs.slice(4 + EDGES.length).map((t) => t.dataSync() as Float32Array);
    const value = tf.tensor4d(mergeForward(dims, k3, k1, ex, sq, ew, es), [3, 3, cin, cout]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
      const d = mergeBackward(dims, g, ex, sq, ew, es);
      return [
        tf.tensor4d(g.slice(), [3, 3, cin, cout]),
        tf.tensor2d(d.dk1, [cin, cout]),
        tf.tensor2d(d.dex, [cin, mid]),
        tf.tensor4d(d.dsq, [3, 3, mid, cout]),
        ...d.dew.map((v) => tf.tensor2d(v, [cin, cout])),
        ...d.des.map((v) => tf.tensor1d(v)),
      ];
    };
    return { value, gradFunc };
  });
  return op(b.k3, b.k1, b.expand, b.squeeze, ...b.edgeW, ...b.edgeScale) as tf.Tensor4D;
}

/** Sizes of a merge, and the edge filters in {@link EDGES} order. */
interface MergeDims {
  cin: number;
  cout: number;
  mid: number;
  masks: number[][];
}

// The loops of the merge and of its gradient are module-level functions, not closures made per call: V8 keeps the
// optimised code of a function, while closures created afresh at every step would start cold in the interpreter
// (the gradient took ~10 ms per layer that way, as long as a quarter of the layer's convolutions).
//
// Their three matrix products (the expand → 3×3 branch: its product, and the gradients of expand and squeeze), most
// of their work, run in WebAssembly SIMD where there is some (`rep-conv-merge.wat`, with C_out in eights): the same sums in
// the same order in float64, so the same bits as the loops here, in a fraction of the time.

interface MergeExports {
  memory: WebAssembly.Memory;
  product(ex: number, sq: number, out: number, cin: number, cout: number, mid: number): void;
  dex(g: number, sqT: number, out: number, cin: number, cout: number, mid: number): void;
  dsq(ex: number, g: number, out: number, cin: number, cout: number, mid: number): void;
}

const mergeModule = lazyWasmModule(WASM_BYTES);
let mergeInstance: MergeExports | null | undefined;

/**
 * @internal Whether the merge may use its WebAssembly products (tests turn it off to compare with the loops), and how
 * many merges and merge gradients have used them.
 */
export const repMergeSettings = { wasm: true, wasmRuns: 0 };

/** The merge products' WebAssembly instance (one per thread, created on first use), or null without WebAssembly SIMD. */
function mergeWasm(d: MergeDims): MergeExports | null {
  if (!repMergeSettings.wasm || d.cout % 8 !== 0 || d.mid % 8 !== 0) return null;
  if (mergeInstance === undefined) {
    const mod = mergeModule();
    mergeInstance = mod ? (new WebAssembly.Instance(mod).exports as unknown as MergeExports) : null;
  }
  if (mergeInstance) repMergeSettings.wasmRuns++;
  return mergeInstance;
}

/** Float32 arrays copied into the instance's memory one after the other (grown as needed); their byte offsets, and where free memory starts. */
function place(x: MergeExports, arrays: Float32Array[], outBytes: number): { at: number[]; free: number } {
  const at: number[] = [];
  let end = 0;
  for (const a of arrays) {
    at.push(end);
    end += (a.byteLength + 15) & ~15;
  }
  const pages = Math.ceil((end + outBytes) / 65536) - x.memory.buffer.byteLength / 65536;
  if (pages > 0) x.memory.grow(pages);
  arrays.forEach((a, j) => new Float32Array(x.memory.buffer, at[j], a.length).set(a));
  return { at, free: end };
}

/** `P[t, i, o] = Σ_m ex[i, m] · sq[t, m, o]` (float64, m ascending). */
function expandSqueeze(d: MergeDims, ex: Float32Array, sq: Float32Array): Float64Array {
  const { cin, cout, mid } = d;
  const x = mergeWasm(d);
  if (x) {
    const { at, free } = place(x, [ex, sq], 8 * 9 * cin * cout);
    x.product(at[0], at[1], free, cin, cout, mid);
    return new Float64Array(x.memory.buffer, free, 9 * cin * cout).slice();
  }
  const p = new Float64Array(9 * cin * cout);
  for (let t = 0; t < 9; t++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        let acc = 0;
        for (let m = 0; m < mid; m++) acc += ex[i * mid + m] * sq[(t * mid + m) * cout + o];
        p[(t * cin + i) * cout + o] = acc;
      }
    }
  }
  return p;
}

/** `K[t, i, o]` of {@link mergeRepKernel} (float64 sums, one float32 rounding per value). */
function mergeForward(d: MergeDims, k3: Float32Array, k1: Float32Array, ex: Float32Array, sq: Float32Array, ew: Float32Array[], es: Float32Array[]): Float32Array {
  const { cin, cout, masks } = d;
  const n = cin * cout;
  const out = new Float32Array(9 * n);
  const product = expandSqueeze(d, ex, sq);
  for (let t = 0; t < 9; t++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        let v = k3[t * n + i * cout + o];
        if (t === 4) v += k1[i * cout + o];
        v += product[t * n + i * cout + o];
        for (let e = 0; e < masks.length; e++) if (masks[e][t] !== 0) v += masks[e][t] * ew[e][i * cout + o] * es[e][o];
        out[t * n + i * cout + o] = v;
      }
    }
  }
  return out;
}

/** The gradients of {@link mergeForward}'s branches given `g`, the gradient of the merged kernel (see mergeRepKernel). */
function mergeBackward(
  d: MergeDims,
  g: Float32Array,
  ex: Float32Array,
  sq: Float32Array,
  ew: Float32Array[],
  es: Float32Array[],
): { dk1: Float32Array; dex: Float32Array; dsq: Float32Array; dew: Float32Array[]; des: Float32Array[] } {
  const { cin, cout, mid, masks } = d;
  const n = cin * cout;
  const dk1 = g.slice(4 * n, 5 * n);
  const dex = new Float32Array(cin * mid);
  const dsq = new Float32Array(9 * mid * cout);
  const x = mergeWasm(d);
  if (x) {
    const sqT = new Float32Array(9 * cout * mid);
    for (let t = 0; t < 9; t++) for (let m = 0; m < mid; m++) for (let o = 0; o < cout; o++) sqT[(t * cout + o) * mid + m] = sq[(t * mid + m) * cout + o];
    const { at, free } = place(x, [g, sqT, ex], 8 * (cin * mid + 9 * mid * cout));
    x.dex(at[0], at[1], free, cin, cout, mid);
    dex.set(new Float64Array(x.memory.buffer, free, cin * mid));
    const dsqAt = free + 8 * cin * mid;
    x.dsq(at[2], at[0], dsqAt, cin, cout, mid);
    dsq.set(new Float64Array(x.memory.buffer, dsqAt, 9 * mid * cout));
  } else {
    for (let i = 0; i < cin; i++) {
      for (let m = 0; m < mid; m++) {
        let acc = 0;
        for (let t = 0; t < 9; t++) for (let o = 0; o < cout; o++) acc += g[t * n + i * cout + o] * sq[(t * mid + m) * cout + o];
        dex[i * mid + m] = acc;
      }
    }
    for (let t = 0; t < 9; t++) {
      for (let m = 0; m < mid; m++) {
        for (let o = 0; o < cout; o++) {
          let acc = 0;
          for (let i = 0; i < cin; i++) acc += ex[i * mid + m] * g[t * n + i * cout + o];
          dsq[(t * mid + m) * cout + o] = acc;
        }
      }
    }
  }
  const dew = masks.map(() => new Float32Array(n));
  const des = masks.map(() => new Float32Array(cout));
  for (let e = 0; e < masks.length; e++) {
    const mask = masks[e];
    const dsum = new Float64Array(cout);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < 9; t++) if (mask[t] !== 0) acc += mask[t] * g[t * n + j];
      const o = j % cout;
      dew[e][j] = acc * es[e][o];
      dsum[o] += acc * ew[e][j];
    }
    des[e].set(dsum);
  }
  return { dk1, dex, dsq, dew, des };
}

/**
 * Keras layer: a `same`-padded 3×3 convolution (stride 1, bias, linear) whose kernel is the sum of ECB-style
 * branches; see the file comment. Its config carries `kernelSize`, `strides`, `padding` like `Conv2D` so that
 * shape, cost and receptive-field analysis treat it as one.
 *
 * @example
 * ```ts
 * const y = new RepConv2D({ filters: 16, name: 'body1' }).apply(x) as tfl.SymbolicTensor;
 * const [kernel, bias] = layer.mergedWeights(); // [3, 3, C_in, 16], [16]: the equivalent plain conv
 * ```
 */
export class RepConv2D extends tfl.layers.Layer {
  static className = 'RepConv2D';
  readonly filters: number;
  readonly expand: number;
  private readonly kernelInit: Init;
  private readonly seed?: number;
  private k3!: tfl.LayerVariable;
  private bias!: tfl.LayerVariable;
  private k1!: tfl.LayerVariable;
  private expandW!: tfl.LayerVariable;
  private squeezeW!: tfl.LayerVariable;
  private edgeW: tfl.LayerVariable[] = [];
  private edgeScale: tfl.LayerVariable[] = [];

  constructor(args: RepConv2DArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.filters) || args.filters < 1) throw new Error(`RepConv2D filters must be a positive integer, got ${args.filters}`);
    const expand = args.expand ?? 2;
    if (!Number.isInteger(expand) || expand < 1) throw new Error(`RepConv2D expand must be a positive integer, got ${expand}`);
    this.filters = args.filters;
    this.expand = expand;
    this.seed = args.seed;
    this.kernelInit = args.kernelInitializer ?? tfl.initializers.heNormal({ seed: args.seed === undefined ? undefined : tfSeed(args.seed) });
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const cin = s[3];
    if (cin == null) throw new Error('RepConv2D needs a known number of input channels');
    const cout = this.filters;
    const mid = cout * this.expand;
    let n = 0;
    const seed = () => (this.seed === undefined ? undefined : this.seed + 1000 + n++);
    // The 1×1 and squeeze branches start small (variance 0.01 / fan-in), the edge scales at 1e-3, so the merged kernel starts close to the 3×3 branch.
    const small = () => tfl.initializers.varianceScaling({ scale: 0.01, mode: 'fanIn', distribution: 'normal', seed: seed() });
    this.k3 = this.addWeight('kernel', [3, 3, cin, cout], 'float32', this.kernelInit);
    this.bias = this.addWeight('bias', [cout], 'float32', tfl.initializers.zeros());
    this.k1 = this.addWeight('k1x1', [cin, cout], 'float32', small());
    this.expandW = this.addWeight('expand', [cin, mid], 'float32', tfl.initializers.heNormal({ seed: seed() }));
    this.squeezeW = this.addWeight('squeeze', [3, 3, mid, cout], 'float32', small());
    this.edgeW = EDGES.map((e) => this.addWeight(`${e}_1x1`, [cin, cout], 'float32', tfl.initializers.heNormal({ seed: seed() })));
    this.edgeScale = EDGES.map((e) => this.addWeight(`${e}_scale`, [cout], 'float32', tfl.initializers.constant({ value: 1e-3 })));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [s[0], s[1], s[2], this.filters];
  }

  /**
   * The merged 3×3 kernel `[3, 3, C_in, C_out]` as a function of the branch weights (differentiable). On the cpu and
   * wasm backends, whose tensors live in CPU memory, it is one custom op computed in plain loops ({@link mergeRepKernel});
   * as tensor ops it would be some 20 tiny kernels forward and 40 backward per layer, whose per-call cost dominated.
   */
  private mergedKernel(): tf.Tensor4D {
    // Adam moves every weight by about the learning rate, so the expand → 3×3 product, a sum over `mid` channels, would
    // move `expand / 2` times faster than ECBSR's: the branch is scaled by 2 / expand (none at the default 2), which
    // keeps its step, not its capacity, at ECBSR's (a 16× wider branch without it diverged within 400 steps at 1e-3).
    const expandW = this.expand === 2 ? (this.expandW.read() as tf.Tensor2D) : tf.mul(this.expandW.read(), 2 / this.expand) as tf.Tensor2D;
    const branches: RepBranches = {
      k3: this.k3.read() as tf.Tensor4D,
      k1: this.k1.read() as tf.Tensor2D,
      expand: expandW,
      squeeze: this.squeezeW.read() as tf.Tensor4D,
      edgeW: this.edgeW.map((w) => w.read() as tf.Tensor2D),
      edgeScale: this.edgeScale.map((w) => w.read() as tf.Tensor1D),
    };
    return HOST_BACKENDS.has(tf.getBackend()) ? mergeRepKernel(branches) : mergeRepKernelOps(branches);
  }

  /** The plain convolution this layer equals: kernel `[3, 3, C_in, C_out]` and bias `[C_out]` (new tensors). */
  mergedWeights(): [tf.Tensor4D, tf.Tensor1D] {
    return [tf.tidy(() => this.mergedKernel()), tf.clone(this.bias.read() as tf.Tensor1D)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      // The bias inside the convolution (XNNPACK adds it as it writes the output; no broadcast Add over the activation);
      // no input gradient where the input needs none (the first layer).
      return convWithBias(x, this.mergedKernel(), this.bias.read() as tf.Tensor1D);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      expand: this.expand,
      // Conv2D-compatible fields, read by describeModel and the receptive-field analysis.
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: 'same',
      dilationRate: [1, 1],
      useBias: true,
      activation: 'linear',
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({ filters: config.filters, expand: config.expand, name: config.name } as never);
  }
}
tf.serialization.registerClass(RepConv2D);

/**
 * Returns `model` with every {@link RepConv2D} replaced by a plain `Conv2D` holding its merged weights: same
 * outputs (up to float rounding), same layer names and metadata, a standard TF.js / ONNX graph. A model without
 * RepConv2D layers is returned as it is (the same object).
 *
 * @example
 * ```ts
 * const plain = await reparameterize(trained); // save / export / ship this one
 * ```
 */
export async function reparameterize(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  if (!model.layers.some((l) => l instanceof RepConv2D)) return model;
  type LayerJson = { class_name: string; config: Record<string, unknown> };
  const topology = model.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  for (const l of topology.config.layers) {
    if (l.class_name !== 'RepConv2D') continue;
    const c = l.config;
    l.class_name = 'Conv2D';
    l.config = {
      name: c.name,
      trainable: c.trainable ?? true,
      dtype: c.dtype ?? 'float32',
      filters: c.filters,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      activation: 'linear',
      use_bias: true,
      kernel_initializer: { class_name: 'Zeros', config: {} },
      bias_initializer: { class_name: 'Zeros', config: {} },
    };
  }
  const out = await tfl.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const w = layer instanceof RepConv2D ? layer.mergedWeights() : layer.getWeights();
    out.getLayer(layer.name).setWeights(w);
    if (layer instanceof RepConv2D) tf.dispose(w);
  }
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  if (meta) {
    const copy = JSON.parse(JSON.stringify(meta)) as Record<string, { options?: Record<string, unknown> } | undefined>;
    const info = copy.sharpenKd;
    if (info?.options) info.options = mergedOptions(info.options);
    out.setUserDefinedMetadata(copy);
  }
  return out;
}

/**
 * @internal Builder options of the plain net a re-parameterizable model merges into: `reparam: false`, so that
 * rebuilding from them gives the merged graph, and `trainedWithReparam: true` (with `trainedWithReparamExpand` for a
 * `reparamExpand`) as provenance. Other options pass through.
 */
export function mergedOptions(options: Record<string, unknown>): Record<string, unknown> {
  if (!options.reparam) return options;
  // A plain net has no branches to widen: the width of the trained ones is kept as provenance only.
  const { reparamExpand, ...rest } = options;
  return { ...rest, reparam: false, trainedWithReparam: true, ...(reparamExpand !== undefined ? { trainedWithReparamExpand: reparamExpand } : {}) };
}
