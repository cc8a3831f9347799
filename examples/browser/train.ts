/**
 * Training in the browser: a compact student (re-parameterized convs) trains on seeded procedural images with
 * `train()` on TF.js WebAssembly. `useBackend('wasm')` registers the training kernels the stock wasm backend lacks.
 * The run is in memory: no `out` folder, so nothing needs Node's file system. `?steps=N&autostart=1` starts a run
 * on load (the browser test does); the hidden `#result` then holds the loss curve and tensor counts as JSON.
 */
import { setUpTfjsWasm } from './tfjs-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, buildStudent, train, useBackend } from 'sharpen-kd';
import { syntheticDataset } from 'sharpen-kd/data';
import { BROWSER_TRAINING_RUN } from './train-run';

setUpTfjsWasm();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const stepsInput = $<HTMLInputElement>('steps');
const startButton = $<HTMLButtonElement>('start');
const stopButton = $<HTMLButtonElement>('stop');
const status = $<HTMLParagraphElement>('status');
const curve = $<HTMLCanvasElement>('curve');
const result = $<HTMLPreElement>('result');

function setState(state: 'ready' | 'working' | 'done' | 'error', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

/** Loss per step (light) and its running mean (dark), on a log scale. */
function plot(losses: number[]): void {
  const g = curve.getContext('2d')!;
  g.clearRect(0, 0, curve.width, curve.height);
  if (losses.length < 2) return;
  const logs = losses.map(Math.log);
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const line = (values: number[], color: string) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * (curve.width - 20) + 10;
      const y = curve.height - 10 - ((v - lo) / (hi - lo || 1)) * (curve.height - 20);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
  };
  let mean = logs[0];
  line(logs, '#9dc');
  line(logs.map((v) => (mean = 0.9 * mean + 0.1 * v)), '#175');
}

let controller: AbortController | undefined;

async function run(steps: number): Promise<void> {
  controller = new AbortController();
  startButton.disabled = true;
  stopButton.disabled = false;
  result.textContent = '';
  const { student: studentOpts, data: dataOpts, schedule } = BROWSER_TRAINING_RUN;
  const tensorsBefore = tf.memory().numTensors;
  const student = buildStudent(studentOpts);
  const data = syntheticDataset(dataOpts);
  const losses: number[] = [];
  const t0 = performance.now();
  try {
    setState('working', `Training ${student.countParams()} parameters on ${tf.getBackend()}…`);
    const r = await train({
      student,
      data,
      schedule: { ...schedule, steps },
      signal: controller.signal,
      onProgress: (p) => {
        const loss = Number(p.info?.loss);
        setState('working', `Step ${p.done} / ${p.total}: loss ${loss.toFixed(4)} (${Number(p.info?.['step/s']).toFixed(1)} steps/s)`);
      },
    });
    for (const h of r.history) losses.push(h.loss);
    plot(losses);
    const seconds = (performance.now() - t0) / 1000;
    student.dispose();
    data.dispose();
    const tensorsAfter = tf.memory().numTensors;
    // Machine-readable outcome (kept out of sight): the browser test reads it.
    result.textContent = JSON.stringify({ backend: tf.getBackend(), steps: r.step, seconds, losses, tensorsBefore, tensorsAfter });
    const first = losses.slice(0, 5).reduce((a, b) => a + b, 0) / Math.min(5, losses.length);
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / Math.min(5, losses.length);
    setState('done', `${r.step} steps in ${seconds.toFixed(1)} s: loss ${first.toFixed(4)} → ${last.toFixed(4)}; ${tensorsAfter - tensorsBefore} tensors left over.`);
  } catch (e) {
    student.dispose();
    data.dispose();
    if (e instanceof AbortError) setState('ready', 'Stopped.');
    else setState('error', `Failed: ${(e as Error).message}`);
  } finally {
    startButton.disabled = false;
    stopButton.disabled = true;
  }
}

startButton.addEventListener('click', () => void run(Math.max(1, Math.min(5000, Number(stepsInput.value) || 200))));
stopButton.addEventListener('click', () => controller?.abort());

const params = new URLSearchParams(location.search);
if (params.has('steps')) stepsInput.value = params.get('steps')!;
try {
  await useBackend('wasm');
  setState('ready', 'Ready: WebAssembly backend with the sharpen-kd training kernels.');
  if (params.get('autostart') === '1') await run(Number(stepsInput.value));
} catch (e) {
  setState('error', `Cannot start the WebAssembly backend: ${(e as Error).message}`);
}
