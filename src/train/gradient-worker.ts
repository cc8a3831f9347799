/**
 * The worker side of data-parallel training (`data-parallel.ts`): a copy of the student on its own TF.js backend
 * (one wasm thread, or the training thread's backend), which takes the current weights and a slice of the batch and
 * answers with the gradients of the combined loss on that slice.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '../core/register-gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import '../models/layers/index';
import { useBackend, type BackendName } from '../backends/use-backend';
import { lossGradients } from './step';
import type { FromGradientWorker, ToGradientWorker, WorkerArray } from './data-parallel';

const port = parentPort;
if (!port) throw new Error('gradient-worker.ts runs in a worker thread (see data-parallel.ts)');

let model: tfl.LayersModel | undefined;
let vars: tf.Variable[] = [];
let weights: Extract<ToGradientWorker, { type: 'init' }>['weights'] | undefined;

const tensor = (a: WorkerArray) => tf.tensor4d(a.data, a.shape);

/** An array the training thread can take without a copy (its own buffer). */
function owned(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}

function fail(e: unknown, id?: number): void {
  const err = e as Error;
  port!.postMessage({ type: 'error', id, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } } satisfies FromGradientWorker);
}

// One request at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToGradientWorker) => {
  queue = queue.then(async () => {
    if (m.type === 'init') {
      try {
        await useBackend(m.backend as BackendName, m.backend === 'wasm' ? { threads: 1 } : {});
        model = await tfl.models.modelFromJSON({ modelTopology: m.topology as tf.io.ModelJSON['modelTopology'] });
        vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
        weights = m.weights;
        port.postMessage({ type: 'ready', variables: vars.length } satisfies FromGradientWorker);
      } catch (e) {
        fail(e);
      }
      return;
    }
    try {
      if (!model || !weights) throw new Error('the gradient worker is not initialised');
      if (m.values.length !== vars.length) throw new Error(`expected ${vars.length} weight arrays, got ${m.values.length}`);
      tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(m.values[i], v.shape))));
      const batch = { lr: tensor(m.lr), hr: tensor(m.hr), teacher: m.teacher ? tensor(m.teacher) : undefined };
      const { value, grads, parts } = lossGradients({ forward: model, vars, weights }, batch, {});
      const names = Object.keys(parts);
      const nums = tf.tidy(() => tf.stack([value, ...names.map((k) => parts[k])]).dataSync());
      const out = grads.map((g) => owned(g.dataSync() as Float32Array));
      tf.dispose([value, ...grads, ...Object.values(parts), batch.lr, batch.hr, batch.teacher]);
      const partValues: Record<string, number> = {};
      names.forEach((k, i) => (partValues[k] = nums[1 + i]));
      port.postMessage(
        { type: 'grads', id: m.id, loss: nums[0], parts: partValues, grads: out } satisfies FromGradientWorker satisfies FromGradientWorker,
        out.map((g) => g.buffer as ArrayBuffer),
      );
    } catch (e) {
      fail(e, m.id);
    }
  });
});
