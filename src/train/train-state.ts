/**
 * Everything a training run must save to continue exactly where it stopped: model weights, feature-KD adapters,
 * Adam moments and step, EMA shadows, plus JSON state (data stream position, best score, config) in `meta`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import type { FeatureAdapters } from '../losses/feature-kd';
import type { Adam } from './adam';
import type { Checkpoint, CheckpointTensor } from './checkpoint';
import type { WeightEma } from './ema';

/** The stateful parts of a run. */
export interface TrainParts {
  model: tfl.LayersModel;
  adam: Adam;
  ema?: WeightEma;
  adapters?: FeatureAdapters;
}

/**
 * Captures the run's tensors as a {@link Checkpoint}. With `compact`, the Adam moments and EMA shadows are stored
 * as bfloat16 (the model weights stay exact float32), which shrinks the file by about 40%.
 *
 * @example
 * ```ts
 * await saveCheckpoint('out/last.ckpt', snapshotTraining(step, parts, { data: data.state() }));
 * ```
 */
export function snapshotTraining(step: number, p: TrainParts, meta: Record<string, unknown>, opts: { compact?: boolean } = {}): Checkpoint {
  const tensors: CheckpointTensor[] = [];
  const storage = opts.compact ? ('bfloat16' as const) : undefined;
  p.model.weights.forEach((w, i) => tensors.push({ name: `model/${i}/${w.originalName ?? w.name}`, shape: w.shape as number[], data: w.read().dataSync() as Float32Array }));
  p.adapters?.variables.forEach((v, i) => tensors.push({ name: `adapter/${i}`, shape: [...v.shape], data: v.dataSync() as Float32Array }));
  const adam = p.adam.getState();
  adam.m.forEach((d, i) => tensors.push({ name: `adam.m/${i}`, shape: [...p.adam.vars[i].shape], data: d, storage }));
  adam.v.forEach((d, i) => tensors.push({ name: `adam.v/${i}`, shape: [...p.adam.vars[i].shape], data: d, storage }));
  const ema = p.ema?.getState();
  ema?.values.forEach((d, i) => tensors.push({ name: `ema/${i}`, shape: [...p.ema!.vars[i].shape], data: d, storage }));
  return { step, meta: { ...meta, adamStep: adam.step, emaCount: ema?.count ?? null }, tensors };
}

/**
 * Restores {@link snapshotTraining} into the run's parts. Throws {@link ModelError} when the checkpoint was made for
 * another architecture (weight count or shapes differ) or with other settings (EMA, adapters).
 *
 * @example
 * ```ts
 * restoreTraining(await loadCheckpoint('out/last.ckpt'), parts);
 * ```
 */
export function restoreTraining(c: Checkpoint, p: TrainParts): void {
  const group = (prefix: string) => c.tensors.filter((t) => t.name.startsWith(prefix));
  const model = group('model/');
  if (model.length !== p.model.weights.length) {
    throw new ModelError(`checkpoint holds ${model.length} model weights, the model has ${p.model.weights.length}: build the model with the same --arch/--width/--depth/--scale as the checkpoint`);
  }
  model.forEach((t, i) => {
    const w = p.model.weights[i];
    if (!tf.util.arraysEqual(t.shape, w.shape as number[])) {
      throw new ModelError(`checkpoint weight ${t.name} is [${t.shape.join(', ')}], the model's is [${w.shape.join(', ')}]: same architecture and options needed to resume`);
    }
  });
  const adapters = group('adapter/');
  if (adapters.length !== (p.adapters?.variables.length ?? 0)) throw new ModelError('checkpoint and run disagree on feature distillation adapters: resume with the same loss weights and taps');
  const emaT = group('ema/');
  if ((emaT.length > 0) !== !!p.ema) throw new ModelError('checkpoint and run disagree on EMA: resume with the same --ema setting');
  tf.tidy(() => {
    model.forEach((t, i) => p.model.weights[i].write(tf.tensor(t.data, t.shape)));
    adapters.forEach((t, i) => p.adapters!.variables[i].assign(tf.tensor(t.data, t.shape)));
  });
  p.adam.setState({ step: Number(c.meta.adamStep ?? c.step), m: group('adam.m/').map((t) => t.data), v: group('adam.v/').map((t) => t.data) });
  if (p.ema) p.ema.setState({ count: Number(c.meta.emaCount ?? c.step), values: emaT.map((t) => t.data) });
}
