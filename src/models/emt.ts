/**
 * EMT, the Efficient Mixed Transformer for lightweight super-resolution (Zheng, Zhu, Shi, Weng 2023,
 * arXiv:2305.11403): sharpen-kd's strong teacher. Written from the paper and its reference implementation's
 * structure; pretrained weights load from the authors' PyTorch checkpoints (`models/emt-weights.ts`).
 *
 *   input [0, 1] ─ mean shift (×255 − DF2K mean) ─ head conv3×3 → dim
 *   ─ B × mixed transformer block ─ + head ─ tail conv3×3 → 3·s² ─ pixel shuffle s ─ mean shift back (÷255) ─ output
 *
 * A mixed transformer block is L layers, each a token mixer and an MLP, both residual:
 *
 *   x = x + mixer(x)   where mixer is, for the first `attentionLayers` layers, striped-window self-attention
 *                        (SWSA: conv1×1 → 2·dim + BatchNorm ─ attention in 32×8 and 8×32 stripes ─ conv1×1 → dim;
 *                        every second one cyclically shifted), and for the others the parameter-free pixel mixer
 *                        (channel groups shifted one pixel, circular padding) as BatchNorm(mix(x) − x)
 *   x = x + mlp(x)     where mlp = shift ─ conv1×1 → dim·r ─ Swish ─ shift ─ conv1×1 → dim  (the "ShiftConv" MLP)
 *
 * The published models use dim 60, 6 blocks × 6 layers, 2 attention layers per block, 3 heads, MLP ratio 2, and
 * BatchNorm in inference mode (running statistics). Input and output follow the sharpen-kd contract: RGB in [0, 1],
 * NHWC, any H and W (the attention pads to window multiples internally and crops back).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Inits, rgbInput, type Sym } from './blocks';
import { ChannelShift } from './layers/channel-shift';
import { PixelShuffle } from './layers/pixel-shuffle';
import { StripedWindowAttention } from './layers/striped-window-attention';
import { checkPositiveInt, checkScale, setModelInfo, type Scale } from './metadata';
import './layers/index';

/**
 * Options of {@link buildEmt}. The defaults are the published EMT configuration.
 *
 * @example
 * ```ts
 * const tiny: EmtOptions = { scale: 4, dim: 20, blocks: 1, layers: 2 }; // for tests
 * ```
 */
export interface EmtOptions {
  scale: Scale;
  /** Feature channels (multiple of 5, and of 2·heads·windows for the attention) (default 60). */
  dim?: number;
  /** Mixed transformer blocks (default 6). */
  blocks?: number;
  /** Layers per block (default 6). */
  layers?: number;
  /** Layers per block, from the first, that use striped-window attention; the rest use the pixel mixer (default 2). */
  attentionLayers?: number;
  /** Attention heads (default 3). */
  heads?: number;
  /** MLP hidden width = dim × mlpRatio (default 2). */
  mlpRatio?: number;
  /** Attention window shapes `[rows, cols]` (default `[[32, 8], [8, 32]]`). */
  windows?: [number, number][];
  /** Cyclic shifts of every second attention layer (default `[[16, 4], [4, 16]]`). */
  shifts?: [number, number][];
  /** Seed of the random initialisation (for a model trained from scratch; pretrained weights replace it). */
  seed?: number;
  name?: string;
}

/** @internal The resolved configuration of an EMT model. */
export type EmtConfig = Required<Omit<EmtOptions, 'seed' | 'name'>> & Pick<EmtOptions, 'seed' | 'name'>;

/** The published EMT configuration (`options/EMT.yml` of the reference implementation). */
export const EMT_DEFAULTS: Omit<EmtConfig, 'scale'> = {
  dim: 60,
  blocks: 6,
  layers: 6,
  attentionLayers: 2,
  heads: 3,
  mlpRatio: 2,
  windows: [
    [32, 8],
    [8, 32],
  ],
  shifts: [
    [16, 4],
    [4, 16],
  ],
};

/** DF2K RGB mean (0–1) that EMT subtracts from its input and adds back to its output. */
export const DF2K_MEAN = [0.469, 0.449, 0.4036] as const;

/** BatchNorm epsilon of the reference (PyTorch's default). */
const BN_EPSILON = 1e-5;

/** @internal EMT's feature taps for feature distillation: the outputs of blocks 2, 4 and 6 (of 6). */
export function emtTaps(blocks: number): string[] {
  const picks = blocks >= 3 ? [Math.floor(blocks / 3) - 1, Math.floor((2 * blocks) / 3) - 1, blocks - 1] : [blocks - 1];
  return [...new Set(picks)].map((b) => `body.${b}`);
}

/** Resolves and validates {@link EmtOptions}. */
function resolve(opts: EmtOptions): EmtConfig {
  const c: EmtConfig = { ...EMT_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)), scale: checkScale(opts.scale) } as EmtConfig;
  for (const k of ['dim', 'blocks', 'layers', 'heads', 'mlpRatio'] as const) checkPositiveInt(k, c[k]);
  checkPositiveInt('attentionLayers', c.attentionLayers, 0);
  const splits = 2 * c.heads * c.windows.length;
  if (c.dim % 5 !== 0 || (2 * c.dim) % splits !== 0 || (c.dim * c.mlpRatio) % 5 !== 0) {
    checkPositiveInt(`dim (a multiple of 5 with 2·dim divisible by ${splits})`, -1);
  }
  return c;
}

/** A 1×1 or 3×3 `same` convolution. */
function conv(x: Sym, filters: number, kernel: number, name: string, init: Inits, activation: 'linear' | 'swish' = 'linear'): Sym {
  return tfl.layers
    .conv2d({ name, filters, kernelSize: kernel, padding: 'same', activation, kernelInitializer: init.glorot() })
    .apply(x) as Sym;
}

function batchNorm(x: Sym, name: string): Sym {
  return tfl.layers.batchNormalization({ name, axis: 3, epsilon: BN_EPSILON }).apply(x) as Sym;
}

function add(a: Sym, b: Sym, name: string): Sym {
  return tfl.layers.add({ name }).apply([a, b]) as Sym;
}

/** A frozen 1×1 conv that is an affine map per channel (the mean shifts); its weights are set by the caller. */
function meanShift(x: Sym, name: string): Sym {
  return tfl.layers.conv2d({ name, filters: 3, kernelSize: 1, trainable: false }).apply(x) as Sym;
}

/**
 * Builds EMT (see the file comment) with random weights: `[N, H, W, 3]` in [0, 1] → `[N, H·s, W·s, 3]`. For the
 * pretrained teacher use {@link loadPretrainedTeacher} (`emt-x2` … `emt-x4`), which builds this network and loads the
 * authors' weights into it.
 *
 * @example
 * ```ts
 * const emt = buildEmt({ scale: 4 });              // the published configuration, 0.69 M parameters
 * const tiny = buildEmt({ scale: 2, dim: 20, blocks: 1, layers: 2, seed: 1 });
 * ```
 */
export function buildEmt(opts: EmtOptions): tfl.LayersModel {
  const c = resolve(opts);
  const init = new Inits(c.seed);
  const input = rgbInput();

  // Mean shift: [0, 1] → 0–255 minus the DF2K mean (weights set below), then the head.
  const centred = meanShift(input, 'sub_mean');
  const head = conv(centred, c.dim, 3, 'head', init);

  // Body: mixed transformer blocks.
  let x = head;
  for (let b = 0; b < c.blocks; b++) {
    for (let l = 0; l < c.layers; l++) {
      const sa = `body.${b}.sa_list.${l}`;
      let mixed: Sym;
      if (l < c.attentionLayers) {
        const qv = batchNorm(conv(x, 2 * c.dim, 1, `${sa}.attn.0`, init), `${sa}.attn.1`);
        const shifted = l % 2 === 1;
        const attn = new StripedWindowAttention({ heads: c.heads, windows: c.windows, shifts: shifted ? c.shifts : undefined, name: `${sa}.swsa` }).apply(qv) as Sym;
        mixed = conv(attn, c.dim, 1, `${sa}.proj.0`, init);
      } else {
        mixed = batchNorm(new ChannelShift({ mode: 'pixel-mixer', name: `${sa}.token_mixer` }).apply(x) as Sym, `${sa}.norm`);
      }
      x = add(x, mixed, `${sa}.add`);

      const mlp = `body.${b}.mlp_list.${l}`;
      let h = new ChannelShift({ mode: 'shift-conv', name: `${mlp}.fc1.shift` }).apply(x) as Sym;
      h = conv(h, c.dim * c.mlpRatio, 1, `${mlp}.fc1`, init, 'swish');
      h = new ChannelShift({ mode: 'shift-conv', name: `${mlp}.fc2.shift` }).apply(h) as Sym;
      h = conv(h, c.dim, 1, `${mlp}.fc2`, init);
      x = add(x, h, l === c.layers - 1 ? `body.${b}` : `${mlp}.add`);
    }
  }
  x = add(x, head, 'body_residual');

  // Tail: conv to 3·s² channels, pixel shuffle, mean shift back to [0, 1].
  const s = c.scale;
  x = conv(x, 3 * s * s, 3, 'tail.0', init);
  if (s > 1) x = new PixelShuffle({ scale: s, name: 'tail.1' }).apply(x) as Sym;
  const output = meanShift(x, 'add_mean');

  const model = tfl.model({ inputs: input, outputs: output, name: c.name ?? `emt_x${s}` });
  setMeanShifts(model);
  const { name: _name, ...options } = c;
  setModelInfo(model, { arch: 'emt', scale: s, role: 'teacher', taps: emtTaps(c.blocks), options });
  return model;
}

/** Sets the two frozen mean-shift convs: `255·x − 255·mean` in, `(y + 255·mean) / 255` out. */
function setMeanShifts(model: tfl.LayersModel): void {
  const eye = (v: number) => [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (i === j ? v : 0)));
  const set = (name: string, w: number[], b: number[]) => {
    const layer = model.getLayer(name);
    const values = [tf.tensor(w, layer.weights[0].shape as number[]), tf.tensor(b, layer.weights[1].shape as number[])];
    layer.setWeights(values);
    tf.dispose(values);
  };
  set('sub_mean', eye(255), DF2K_MEAN.map((m) => -255 * m));
  set('add_mean', eye(1 / 255), [...DF2K_MEAN]);
}
