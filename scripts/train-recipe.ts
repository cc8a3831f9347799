/**
 * A run config's training step, built from the library's own pieces (buildStudent, Adam, WeightEma, the loss weights
 * the CLI derives, and `trainingStep`, the step `train()` runs), for the training benchmarks and profiles
 * (scripts/bench-train-vs-pytorch.ts, lab/scripts/profile-step.ts).
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainCliOptions } from '../src/cli/train';
import { pixelSpaceOf } from '../src/cli/train';
import type { RunConfig } from '../src/cli/run-config';
import { Rng } from '../src/core/rng';
import type { PatchBatch } from '../src/data/types';
import { resolveLossWeights, type ResolvedLossWeights } from '../src/losses/combined';
import type { DetailKind } from '../src/models/compact';
import type { ResidualInterpolation } from '../src/models/layers/add-upsampled-input';
import type { Scale } from '../src/models/metadata';
import { buildStudent } from '../src/models/student';
import { Adam } from '../src/train/adam';
import { WeightEma } from '../src/train/ema';
import { trainingStep, type StepOutcome, type StepParts } from '../src/train/step';

/** The shipped x4 recipe. */
export const DEFAULT_RECIPE = 'lab/runs/student-x4-luma16x8.json';

/** The model, loss and step settings of a run config, with the CLI's defaults filled in. */
export interface Recipe {
  file: string;
  scale: Scale;
  model: { arch: 'compact'; width: number; depth: number; unshuffle: 1 | 2 | 4; reparam: boolean; detail: DetailKind; residualInterpolation: ResidualInterpolation };
  patch: number;
  batch: number;
  lr: number;
  clip: number;
  ema: number;
  seed: number;
  weights: ResolvedLossWeights;
}

/** Reads the parts of a run config that define a training step (compact students only; the PyTorch side has no unshuffle). */
export function readRecipe(file = DEFAULT_RECIPE): Recipe {
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as RunConfig;
  const m = c.model ?? {};
  if ((m.arch ?? 'compact') !== 'compact') throw new Error(`${file}: only compact students are supported`);
  const detail = (m.detail ?? 'rgb') as DetailKind;
  const model = { arch: 'compact' as const, width: m.width ?? 16, depth: m.depth ?? 4, unshuffle: (m.unshuffle ?? 1) as 1 | 2 | 4, reparam: m.reparam ?? false, detail, residualInterpolation: (m.residualInterpolation ?? 'nearest') as ResidualInterpolation };
  const pixelSpace = pixelSpaceOf({ detail, pixelSpace: c.loss?.pixelSpace } as TrainCliOptions);
  const s = c.schedule ?? {};
  return {
    file,
    scale: (c.scale ?? 4) as Scale,
    model,
    patch: c.data?.patch ?? 32,
    batch: c.data?.batch ?? 16,
    lr: s.lr ?? 1e-3,
    clip: s.clip ?? 1,
    ema: s.ema ?? 0,
    seed: c.seed ?? 1,
    weights: resolveLossWeights({ pixel: c.loss?.pixel, ssim: c.loss?.ssim, pixelKind: c.loss?.pixelKind, pixelSpace }),
  };
}

/** A student of the recipe with its optimizer and EMA, ready to step. */
export interface RecipeTrainer {
  student: tfl.LayersModel;
  parts: StepParts;
  /** One training step on `batch` at the recipe's clip and learning rate `lr` (default the recipe's). */
  step(batch: PatchBatch, lr?: number): StepOutcome;
  dispose(): void;
}

/** Builds the recipe's student (seeded) with Adam and the EMA as `train()` creates them. */
export function recipeTrainer(r: Recipe): RecipeTrainer {
  const student = buildStudent({ ...r.model, scale: r.scale, seed: r.seed });
  const vars = student.trainableWeights.map((w) => w.read() as tf.Variable);
  const adam = new Adam(vars);
  const ema = r.ema > 0 ? new WeightEma(vars, r.ema) : undefined;
  const parts: StepParts = { forward: student, vars, adam, ema, weights: r.weights };
  return {
    student,
    parts,
    step: (batch, lr = r.lr) => trainingStep(parts, batch, {}, lr, r.clip),
    dispose: () => {
      adam.dispose();
      ema?.dispose();
      student.dispose();
    },
  };
}

/** `count` batches of uniform random pixels (seeded): the NHWC float32 arrays and a tensor batch of each. */
export function randomBatches(r: Recipe, count: number, seed = 7): { lr: Float32Array; hr: Float32Array; batches: PatchBatch[] } {
  const rng = new Rng(seed);
  const [p, q] = [r.patch, r.patch * r.scale];
  const lr = new Float32Array(count * r.batch * p * p * 3).map(() => rng.next());
  const hr = new Float32Array(count * r.batch * q * q * 3).map(() => rng.next());
  const batches = Array.from({ length: count }, (_, i) => ({
    lr: tf.tensor4d(lr.subarray(i * r.batch * p * p * 3, (i + 1) * r.batch * p * p * 3), [r.batch, p, p, 3]),
    hr: tf.tensor4d(hr.subarray(i * r.batch * q * q * 3, (i + 1) * r.batch * q * q * 3), [r.batch, q, q, 3]),
  }));
  return { lr, hr, batches };
}
