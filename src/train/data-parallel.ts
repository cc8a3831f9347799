/**
 * Data-parallel training steps (Node): each batch is split between the training thread and `gradientWorkers` worker
 * threads, each holding a copy of the student on its own one-thread backend. The workers get the current weights and
 * their rows of the batch, and answer with the gradients of the loss on those rows; the training thread weighs every
 * part by its share of the rows (the losses are means over the batch, so this is the gradient of the whole batch),
 * then takes the global norm, clipping, Adam and the EMA as a one-thread step does.
 *
 * On a machine with idle cores this beats splitting each operation over threads: a 16-wide student's convolutions
 * are too small for XNNPACK's thread pool to pay (see docs/training-on-wasm.md). The result equals a one-thread step
 * up to float rounding (the batch mean is summed in another order); a run resumes bit for bit with the same number of
 * workers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Worker } from 'node:worker_threads';
import { BackendError, ConfigError, ModelError, SharpenError } from '../errors';
import type { PatchBatch } from '../data/types';
import type { ResolvedLossWeights } from '../losses/combined';
import { startModuleWorker } from '../platform/node-worker';
import { applyGradients, lossGradients, type StepOutcome, type StepParts } from './step';

/** @internal A float32 NHWC array with its shape, as it crosses to a worker. */
export interface WorkerArray {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** @internal Messages to `gradient-worker.ts`. */
export type ToGradientWorker =
  | { type: 'init'; backend: string; topology: unknown; weights: ResolvedLossWeights }
  | { type: 'grads'; id: number; values: Float32Array[]; lr: WorkerArray; hr: WorkerArray; teacher?: WorkerArray };
/** @internal Messages from `gradient-worker.ts`. */
export type FromGradientWorker =
  | { type: 'ready'; variables: number }
  | { type: 'grads'; id: number; loss: number; parts: Record<string, number>; grads: Float32Array[] }
  | { type: 'error'; id?: number; error: { name: string; message: string } };

type Answer = Extract<FromGradientWorker, { type: 'grads' }>;

function reviveError(e: { name: string; message: string }): SharpenError {
  if (e.name === 'ConfigError') return new ConfigError(e.message);
  if (e.name === 'ModelError') return new ModelError(e.message);
  return new BackendError(`a gradient worker failed: ${e.message}`);
}

/** One worker thread and its requests in flight. */
class GradientWorker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  private ready?: { resolve: (n: number) => void; reject: (e: Error) => void };

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromGradientWorker) => {
      if (m.type === 'ready') this.ready?.resolve(m.variables);
      else if (m.type === 'grads') {
        this.pending.get(m.id)?.resolve(m);
        this.pending.delete(m.id);
      } else if (m.id === undefined) this.fail(reviveError(m.error));
      else {
        this.pending.get(m.id)?.reject(reviveError(m.error));
        this.pending.delete(m.id);
      }
      if (this.pending.size === 0) worker.unref();
    });
    worker.on('error', (e: Error) => this.fail(new BackendError(`a gradient worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.fail(new BackendError(`a gradient worker stopped (exit code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.ready?.reject(e);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.worker.unref();
  }

  static async start(init: Extract<ToGradientWorker, { type: 'init' }>, variables: number): Promise<GradientWorker> {
    const w = new GradientWorker(await startModuleWorker('gradient-worker', import.meta.url));
    try {
      const n = await new Promise<number>((resolve, reject) => {
        w.ready = { resolve, reject };
        w.worker.postMessage(init satisfies ToGradientWorker);
      });
      if (n !== variables) throw new BackendError(`a gradient worker built a student with ${n} trainable weights, not ${variables}`);
    } catch (e) {
      w.dispose();
      throw e;
    } finally {
      w.ready = undefined;
    }
    w.worker.unref();
    return w;
  }

  gradients(values: Float32Array[], lr: WorkerArray, hr: WorkerArray, teacher?: WorkerArray): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.ref();
    const moved = [lr.data.buffer, hr.data.buffer, ...(teacher ? [teacher.data.buffer] : [])] as ArrayBuffer[];
    this.worker.postMessage({ type: 'grads', id, values, lr, hr, teacher } satisfies ToGradientWorker, moved);
    return answer;
  }

  dispose(): void {
    this.failure ??= new BackendError('the gradient worker was disposed');
    void this.worker.terminate();
  }
}

/**
 * @internal The gradient workers of a run (`TrainOptions.gradientWorkers`). Stateful handle: `dispose()` stops the
 * threads.
 */
export class GradientWorkers {
  private constructor(private readonly workers: GradientWorker[]) {}

  /** Starts `count` workers, each with a copy of `student` (its topology; weights come with every step). */
  static async start(count: number, student: tfl.LayersModel, weights: ResolvedLossWeights, variables: number): Promise<GradientWorkers> {
    if (weights.feature > 0) throw new ConfigError('gradientWorkers does not support feature distillation (loss weight "feature" > 0): train with gradientWorkers 0');
    const init: ToGradientWorker = { type: 'init', backend: tf.getBackend(), topology: student.toJSON(null, false), weights };
    const started = await Promise.allSettled(Array.from({ length: count }, () => GradientWorker.start(init, variables)));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const bad = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (bad) {
      for (const w of ok) w.dispose();
      const e = bad.reason as Error;
      if (e instanceof SharpenError) throw e;
      throw new ConfigError(`gradientWorkers needs worker threads (Node): ${e?.message ?? String(e)}`, { cause: e });
    }
    return new GradientWorkers(ok);
  }

  /** Rows of a batch of `n` for this thread (first) and each worker: as even as they go, the remainder to this thread. */
  split(n: number): number[] {
    const k = this.workers.length + 1;
    const base = Math.floor(n / k);
    return [n - base * (k - 1), ...Array.from({ length: k - 1 }, () => base)];
  }

  /**
   * One training step on `batch` (not disposed), split between this thread and the workers; the same outcome as
   * `trainingStep` up to float rounding.
   */
  async step(p: StepParts, batch: PatchBatch, targets: { output?: tf.Tensor4D; features?: tf.Tensor4D[] }, lr: number, clip: number): Promise<StepOutcome> {
    if (p.adapters || batch.teacherFeatures || targets.features) throw new ConfigError('gradientWorkers does not support feature distillation: train with gradientWorkers 0');
    const n = batch.lr.shape[0];
    const rows = this.split(n);
    const teacher = batch.teacher ?? targets.output;
    const slice = (t: tf.Tensor4D, start: number, size: number) => tf.slice(t, [start, 0, 0, 0], [size, -1, -1, -1]);
    const toArray = (t: tf.Tensor4D, start: number, size: number): WorkerArray => {
      const s = slice(t, start, size);
      // A copy of just these rows (a backend may hand out a view of the whole batch), moved to the worker.
      const data = (s.dataSync() as Float32Array).slice();
      s.dispose();
      return { data, shape: [size, t.shape[1], t.shape[2], t.shape[3]] };
    };
    // The workers start first, then this thread computes its own rows.
    const values = p.vars.map((v) => v.dataSync() as Float32Array);
    const answers: Promise<Answer>[] = [];
    let start = rows[0];
    for (let i = 0; i < this.workers.length; i++) {
      const size = rows[i + 1];
      if (size > 0) answers.push(this.workers[i].gradients(values, toArray(batch.lr, start, size), toArray(batch.hr, start, size), teacher ? toArray(teacher, start, size) : undefined));
      start += size;
    }
    const mine = { lr: slice(batch.lr, 0, rows[0]), hr: slice(batch.hr, 0, rows[0]), teacher: teacher ? slice(teacher, 0, rows[0]) : undefined };
    let own: ReturnType<typeof lossGradients>;
    try {
      own = lossGradients(p, mine, {});
    } finally {
      tf.dispose([mine.lr, mine.hr, mine.teacher]);
    }
    const names = Object.keys(own.parts);
    const ownNums = tf.tidy(() => tf.stack([own.value, ...names.map((k) => own.parts[k])]).dataSync());
    tf.dispose([own.value, ...Object.values(own.parts)]);
    let theirs: Answer[];
    try {
      theirs = await Promise.all(answers);
    } catch (e) {
      tf.dispose(own.grads);
      throw e;
    }
    // Each part weighs by its share of the rows.
    const shares = [rows[0] / n, ...theirs.map((_, i) => rows[i + 1] / n)];
    let loss = ownNums[0] * shares[0];
    const parts: Record<string, number> = {};
    names.forEach((k, j) => (parts[k] = ownNums[1 + j] * shares[0]));
    theirs.forEach((a, i) => {
      loss += a.loss * shares[i + 1];
      for (const k of names) parts[k] += a.parts[k] * shares[i + 1];
    });
    // The weighted sum on the host (two kernels per variable and part cost more than the arithmetic), and the global
    // norm of the float32 result in float64, as globalNorm takes it on cpu and wasm.
    let sumSq = 0;
    const grads = p.vars.map((v, j) => {
      const g = (own.grads[j].dataSync() as Float32Array).slice();
      for (let k = 0; k < g.length; k++) g[k] *= shares[0];
      theirs.forEach((a, i) => {
        const [x, w] = [a.grads[j], shares[i + 1]];
        for (let k = 0; k < g.length; k++) g[k] += x[k] * w;
      });
      for (let k = 0; k < g.length; k++) sumSq += g[k] * g[k];
      return tf.tensor(g, v.shape);
    });
    tf.dispose(own.grads);
    const gradNorm = Math.sqrt(sumSq);
    return applyGradients(p, grads, loss, gradNorm, parts, lr, clip);
  }

  dispose(): void {
    for (const w of this.workers) w.dispose();
  }
}
