/**
 * EMT from the authors' PyTorch state dict: infers the configuration from the tensor names and shapes, builds the
 * network with {@link buildEmt} and converts every tensor to its TF.js layout.
 *
 * - Convolutions: PyTorch `[out, in, kh, kw]` → TF.js `[kh, kw, in, out]`.
 * - BatchNorm: weight, bias, running mean and variance → gamma, beta, moving mean and variance (inference mode).
 * - The tail conv's output channels are reordered from PyTorch's pixel-shuffle order (`c·s² + i·s + j`) to
 *   TensorFlow's depth-to-space order (`(i·s + j)·3 + c`).
 * - The mean shifts absorb the 0–255 scale of the reference (input ×255, output ÷255).
 * - The fixed shift masks (`*.mask`) are not weights here ({@link ChannelShift} has them built in): they are
 *   checked against the built-in pattern, so a checkpoint with a different pattern is refused rather than
 *   silently mis-converted.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import type { TorchWeights } from '../io/torch-weights';
import { buildEmt, EMT_DEFAULTS, type EmtOptions } from './emt';
import { channelShiftKernel, type ChannelShiftMode } from './layers/channel-shift';
import type { Scale } from './metadata';

function need(w: TorchWeights, key: string, shape?: number[]): Float32Array {
  const t = w.get(key);
  if (!t) throw new ModelError(`not an EMT checkpoint: "${key}" is missing`);
  if (shape && t.shape.join() !== shape.join()) throw new ModelError(`EMT checkpoint: "${key}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  return t.data;
}

/** `[O, I, kh, kw]` (PyTorch) → `[kh, kw, I, O]` (TF.js), with output channel `o` taken from `order[o]`. */
function convKernel(data: Float32Array, [o, i, kh, kw]: readonly number[], order?: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++) {
    const src = order ? order[oo] : oo;
    for (let ii = 0; ii < i; ii++) {
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ii) * o + oo] = data[((src * i + ii) * kh + y) * kw + x];
    }
  }
  return out;
}

/** For TF output channel k = (i·s + j)·3 + c, the PyTorch channel c·s² + i·s + j. */
function pixelShuffleOrder(s: number): number[] {
  const order: number[] = [];
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) for (let c = 0; c < 3; c++) order.push(c * s * s + i * s + j);
  return order;
}

/** Reads the EMT configuration from a state dict's names and shapes. */
export function emtConfigFromTorch(w: TorchWeights): Omit<EmtOptions, 'seed' | 'name'> & { scale: Scale } {
  const head = w.get('head.weight');
  const tail = w.get('tail.0.weight');
  if (!head || !tail || !w.has('sub_mean.weight')) {
    throw new ModelError('not an EMT checkpoint: it has no head.weight / tail.0.weight / sub_mean.weight (is it a state dict of archs/emt_arch.py?)');
  }
  const dim = head.shape[0];
  const s = Math.round(Math.sqrt(tail.shape[0] / 3));
  if (3 * s * s !== tail.shape[0] || ![2, 3, 4].includes(s)) throw new ModelError(`EMT checkpoint: tail.0.weight has ${tail.shape[0]} output channels, not 3·s² for s = 2, 3 or 4`);
  let blocks = 0;
  while (w.has(`body.${blocks}.mlp_list.0.fc1.weight`)) blocks++;
  let layers = 0;
  while (w.has(`body.0.mlp_list.${layers}.fc1.weight`)) layers++;
  let attentionLayers = 0;
  while (w.has(`body.0.sa_list.${attentionLayers}.attn.0.weight`)) attentionLayers++;
  const hidden = w.get('body.0.mlp_list.0.fc1.weight')!.shape[0];
  if (blocks === 0 || layers === 0) throw new ModelError('not an EMT checkpoint: no body.<b>.mlp_list.<l> layers');
  return { ...EMT_DEFAULTS, scale: s as Scale, dim, blocks, layers, attentionLayers, mlpRatio: hidden / dim };
}

/**
 * Builds EMT from a PyTorch state dict of the reference implementation (`archs/emt_arch.py`, the `params` of the
 * published `EMT_LSR_x{2,3,4}.pth`). Heads, windows and shifts are not in the state dict: the published ones unless
 * given. Read the dict with {@link loadTorchWeights}.
 *
 * @throws ModelError when the dict is not EMT's, a shape disagrees, or a fixed shift mask differs from EMT's.
 * @example
 * ```ts
 * const weights = loadTorchWeights(await readFile('EMT_LSR_x4.pth'));
 * const emt = emtFromTorch(weights); // [0, 1] RGB in and out, ×4
 * ```
 */
export function emtFromTorch(w: TorchWeights, opts: Pick<EmtOptions, 'heads' | 'windows' | 'shifts' | 'name'> = {}): tfl.LayersModel {
  const config = { ...emtConfigFromTorch(w), ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  const model = buildEmt(config);
  try {
    const values: tf.Tensor[] = [];
    const order = pixelShuffleOrder(config.scale);
    for (const layer of model.layers) {
      const name = layer.name;
      const cls = layer.getClassName();
      if (cls === 'Conv2D') {
        const shape = w.get(`${name}.weight`)?.shape;
        const k = layer.weights[0].shape;
        const expected = [k[3], k[2], k[0], k[1]] as number[];
        const kernel = need(w, `${name}.weight`, expected);
        let kData = convKernel(kernel, shape!, name === 'tail.0' ? order : undefined);
        let bias = need(w, `${name}.bias`, [k[3]] as number[]);
        if (name === 'tail.0') bias = Float32Array.from(order, (src) => bias[src]);
        // The reference works in 0–255; the model takes and returns [0, 1].
        if (name === 'sub_mean') kData = kData.map((v) => v * 255);
        if (name === 'add_mean') {
          kData = kData.map((v) => v / 255);
          bias = bias.map((v) => v / 255);
        }
        values.push(tf.tensor(kData, k as number[]), tf.tensor(bias, [k[3] as number]));
        layer.setWeights(values.slice(-2));
      } else if (cls === 'BatchNormalization') {
        const c = layer.weights[0].shape[0] as number;
        const parts = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => tf.tensor(need(w, `${name}.${p}`, [c]), [c]));
        values.push(...parts);
        layer.setWeights(parts);
      } else if (cls === 'ChannelShift') {
        // `...token_mixer` holds its mask itself; the MLP's shift (`...fc1.shift`) is the mask of `...fc1`.
        const mode = (layer as unknown as { mode: ChannelShiftMode }).mode;
        const key = mode === 'pixel-mixer' ? `${name}.mask` : `${name.replace(/\.shift$/, '')}.mask`;
        checkMask(w, key, mode);
      }
    }
    tf.dispose(values);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Checks a fixed `[C, 1, 3, 3]` shift mask against {@link ChannelShift}'s built-in pattern. */
function checkMask(w: TorchWeights, key: string, mode: ChannelShiftMode): void {
  const t = w.get(key);
  if (!t) throw new ModelError(`not an EMT checkpoint: "${key}" is missing`);
  const c = t.shape[0];
  const ours = channelShiftKernel(mode, c); // [3, 3, C, 1], with −1 at the centre for the pixel mixer
  for (let ch = 0; ch < c; ch++) {
    for (let tap = 0; tap < 9; tap++) {
      const expected = ours[tap * c + ch] + (mode === 'pixel-mixer' && tap === 4 ? 1 : 0);
      if (t.data[ch * 9 + tap] !== expected) throw new ModelError(`EMT checkpoint: the fixed shift mask "${key}" differs from EMT's ${mode} pattern at channel ${ch}`);
    }
  }
}
