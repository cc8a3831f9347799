/**
 * Small building blocks shared by the architecture files: convolutions with seeded initialisers and
 * activations (ReLU, tanh, channel-wise PReLU that works with any H and W).
 */
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Activations the builders accept.
 *
 * @example
 * ```ts
 * const model = buildStudent({ arch: 'espcn', scale: 3, activation: 'relu' satisfies Activation });
 * ```
 */
export type Activation = 'relu' | 'tanh' | 'prelu' | 'linear';

/** A symbolic tensor of a functional model under construction. */
export type Sym = tfl.SymbolicTensor;

/**
 * @internal A seed for TF.js's random initialisers, which take 0 for "no seed" (`seed || Math.random()`): 0 becomes
 * another fixed value, so that seed 0 (the CLI's default) is reproducible too. Every other seed is kept.
 */
export function tfSeed(seed: number): number {
  return seed === 0 ? 0x5eed : seed;
}

/**
 * @internal Hands out initialisers; with a seed, every call gets `seed + n` so that models are reproducible.
 */
export class Inits {
  private n = 0;
  constructor(private readonly seed?: number) {}
  private next(): number | undefined {
    return this.seed === undefined ? undefined : tfSeed(this.seed + this.n++);
  }
  /** He-normal (for layers followed by ReLU/PReLU). */
  he(): ReturnType<typeof tfl.initializers.heNormal> {
    return tfl.initializers.heNormal({ seed: this.next() });
  }
  /** Glorot-uniform (linear / tanh layers). */
  glorot(): ReturnType<typeof tfl.initializers.glorotUniform> {
    return tfl.initializers.glorotUniform({ seed: this.next() });
  }
  /** Glorot-uniform scaled by `gain` (variance scaling), for small residual-branch outputs. */
  scaled(gain: number): ReturnType<typeof tfl.initializers.varianceScaling> {
    return tfl.initializers.varianceScaling({ scale: gain, mode: 'fanAvg', distribution: 'uniform', seed: this.next() });
  }
}

/** @internal Options of {@link conv}. */
export interface ConvOpts {
  name: string;
  kernel: number;
  strides?: number;
  activation?: Activation;
  /** With `activation: 'prelu'`: its slopes (default one per channel). */
  preluSlopes?: PreluSlopes;
  init: ReturnType<Inits['he']>;
  useBias?: boolean;
}

/**
 * @internal `same`-padded 2-D convolution, optionally followed by an activation. ReLU and tanh are fused
 * into the conv layer; PReLU becomes a separate layer named `${name}_prelu`.
 */
export function conv(x: Sym, filters: number, o: ConvOpts): Sym {
  const fused = o.activation === 'relu' || o.activation === 'tanh' ? o.activation : 'linear';
  const y = tfl.layers
    .conv2d({
      name: o.name,
      filters,
      kernelSize: o.kernel,
      strides: o.strides ?? 1,
      padding: 'same',
      activation: fused,
      useBias: o.useBias ?? true,
      kernelInitializer: o.init,
    })
    .apply(x) as Sym;
  return o.activation === 'prelu' ? prelu(y, `${o.name}_prelu`, o.preluSlopes) : y;
}

/**
 * How many slopes a PReLU learns: one per channel (`'channel'`, shared over height and width, as in SRVGGNetCompact),
 * or one for the whole layer (`'layer'`: a leaky ReLU whose slope is learned). The ONNX export writes a one-slope
 * PReLU as `LeakyRelu`, which ONNX Runtime's CPU provider fuses into the convolution before it, so the activation
 * costs no pass of its own; a per-channel one is a pass or two over the features after every convolution
 * (`models/onnx/ort-cpu.ts`).
 *
 * @example
 * ```ts
 * const fast = buildStudent({ scale: 2, width: 16, depth: 3, preluSlopes: 'layer' satisfies PreluSlopes });
 * ```
 */
export type PreluSlopes = 'channel' | 'layer';

/** @internal PReLU with one slope per channel (shared over H and W) or one per layer; slopes start at 0.25. */
export function prelu(x: Sym, name: string, slopes: PreluSlopes = 'channel'): Sym {
  return tfl.layers
    .prelu({ name, sharedAxes: slopes === 'layer' ? [1, 2, 3] : [1, 2], alphaInitializer: tfl.initializers.constant({ value: 0.25 }) })
    .apply(x) as Sym;
}

/** @internal ReLU as its own layer. */
export function relu(x: Sym, name: string): Sym {
  return tfl.layers.activation({ name, activation: 'relu' }).apply(x) as Sym;
}

/** @internal The `[null, null, 3]` RGB input of every model. */
export function rgbInput(name = 'input'): Sym {
  return tfl.input({ shape: [null, null, 3], name, dtype: 'float32' });
}

