/**
 * Live video demo: a `<video>` (a file the user picks, the webcam, or a test pattern drawn on a canvas) upscaled
 * frame by frame by the student, next to the browser's own scaling, with the frame rate shown.
 *
 * Per frame: draw the video into a small canvas (the input width chosen on the page), `tf.browser.fromPixels` it
 * into a [0, 1] float tensor, `student.sharpen(tensor)` (on WebGPU / WebGL the model runs on the GPU, the tensor
 * never leaves it until `tf.browser.toPixels` paints the result), dispose both tensors. The engine is the fastest
 * one available: WebGPU, else WebGL, else WebAssembly. New frames are picked up with requestVideoFrameCallback where
 * the browser has it; a frame that arrives while the previous one is still running is skipped, so the output keeps
 * up with real time instead of falling behind. With the temporal filter on (`TemporalFilter`, the one `sharpen-kd
 * video` uses; strength chosen on the page), the result is read back as RGBA pixels (as `tf.browser.toPixels` does
 * anyway), blended with the previous filtered frame where the input holds still, and painted with putImageData.
 *
 * The page reports on `<body>`: data-state (loading | ready | running | error), data-backend, data-model,
 * data-frames (frames painted), data-fps, data-tensors (live TF.js tensors after the last frame) and data-temporal (the
 * filter's strength, 0 when off).
 */
import '@tensorflow/tfjs-backend-webgl';
import { setUpTfjsWasm } from './tfjs-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { Student, TemporalFilter, useBackend, type BackendName } from 'sharpen-kd';
import { availableModels } from './models-index';

setUpTfjsWasm();
const modelBaseUrl = new URL('models/', location.href).href;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const fileInput = $<HTMLInputElement>('file');
const modelSelect = $<HTMLSelectElement>('model');
const backendSelect = $<HTMLSelectElement>('backend');
const sizeSelect = $<HTMLSelectElement>('size');
const temporalSelect = $<HTMLSelectElement>('temporal');
const note = $<HTMLParagraphElement>('note');
const status = $<HTMLParagraphElement>('status');
const before = $<HTMLCanvasElement>('before');
const after = $<HTMLCanvasElement>('after');
const slider = $<HTMLInputElement>('slider');

const notes = new Set<string>();
function addNote(text: string): void {
  notes.add(text);
  note.textContent = [...notes].join(' ');
  note.hidden = false;
}
function setState(state: 'loading' | 'ready' | 'running' | 'error', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}


type GpuNavigator = Navigator & { gpu?: { requestAdapter(): Promise<unknown> } };

/** Initialises one engine; WebGPU's TF.js backend is loaded only where the browser has WebGPU. */
async function tryBackend(name: BackendName): Promise<void> {
  if (name === 'webgpu') {
    const gpu = (navigator as GpuNavigator).gpu;
    if (!gpu || !(await gpu.requestAdapter())) throw new Error('WebGPU is not available in this browser');
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  await useBackend(name);
}

/**
 * The name of the WebGL renderer when it is a software one (SwiftShader, llvmpipe: no GPU, or a blocklisted one),
 * on which WebGL is many times slower than WebAssembly.
 */
function softwareWebGl(): string | undefined {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return undefined;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer) ? renderer : undefined;
}

/** The engine asked for, or for `auto` the first that works of WebGPU, WebGL (on a GPU), WebAssembly. */
async function selectBackend(choice: string): Promise<BackendName> {
  const order: BackendName[] = choice === 'auto' ? ['webgpu', 'webgl', 'wasm'] : [choice as BackendName];
  const failed: string[] = [];
  for (const name of order) {
    try {
      if (choice === 'auto' && name === 'webgl' && softwareWebGl()) {
        failed.push('WebGL on a GPU (this browser renders WebGL in software, slower than WebAssembly)');
        continue;
      }
      await tryBackend(name);
      if (failed.length) addNote(`Not available here: ${failed.join(', ')}; running on ${name}.`);
      return name;
    } catch (e) {
      if (choice !== 'auto') throw e;
      failed.push(name);
    }
  }
  throw new Error('no TF.js engine could be initialised');
}

const loaded = new Map<string, Promise<Student>>();
/** Loads (once per model and engine) a student; bicubic at the same scale when the weights cannot be loaded. */
function loadModel(name: string, backend: BackendName): Promise<Student> {
  const key = `${name}@${backend}`;
  const scale = Number(/^x(\d)$/.exec(name)?.[1] ?? 4);
  let p = loaded.get(key);
  if (!p) {
    p =
      name === 'bicubic'
        ? Student.load('bicubic', { scale, backend })
        : Student.load(name, { backend, modelBaseUrl }).catch((e: Error) => {
            addNote(`Could not load model "${name}" (${e.message}): showing bicubic interpolation instead.`);
            return Student.load('bicubic', { scale, backend });
          });
    loaded.set(key, p);
  }
  return p;
}

/** A moving test pattern on a canvas, as a video stream (no camera or file needed). */
function testPattern(): MediaStream {
  const c = document.createElement('canvas');
  c.width = 320;
  c.height = 180;
  const ctx = c.getContext('2d')!;
  const t0 = performance.now();
  const draw = (): void => {
    const t = (performance.now() - t0) / 1000;
    const g = ctx.createLinearGradient(0, 0, c.width, c.height);
    g.addColorStop(0, '#1b3b6f');
    g.addColorStop(1, '#f2a541');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, c.width, c.height);
    for (let i = 0; i < 12; i++) {
      ctx.strokeStyle = i % 2 ? '#fff' : '#111';
      ctx.lineWidth = 1 + (i % 3);
      ctx.beginPath();
      ctx.moveTo(((i * 29 + t * 20) % c.width), 0);
      ctx.lineTo(((i * 29 + t * 20 + 60) % c.width), c.height);
      ctx.stroke();
    }
    ctx.fillStyle = '#e63946';
    ctx.beginPath();
    ctx.arc(160 + 100 * Math.cos(t), 90 + 50 * Math.sin(1.3 * t), 22, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 18px sans-serif';
    ctx.fillText(`sharpen-kd ${t.toFixed(1)} s`, 10, 24);
    requestAnimationFrame(draw);
  };
  draw();
  return c.captureStream(30);
}

// --- the frame loop ----------------------------------------------------------------------------------------------

const input = document.createElement('canvas');
// Read back every frame when the temporal filter is on: keep the (small) input canvas on the CPU.
const inputCtx = input.getContext('2d', { willReadFrequently: true })!;
/** The temporal filter, made anew for each source, model or strength (a new size starts it over by itself). */
let temporal: TemporalFilter | undefined;
let student: Student | undefined;
let generation = 0;
let busy = false;
let frames = 0;
const times: number[] = [];

/** Waits for the video's next frame (requestVideoFrameCallback), or the next animation frame where it is missing. */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

async function processFrame(s: Student): Promise<void> {
  const w = Math.min(Number(sizeSelect.value), video.videoWidth);
  const h = Math.max(1, Math.round((w * video.videoHeight) / video.videoWidth));
  if (input.width !== w || input.height !== h) {
    input.width = w;
    input.height = h;
  }
  inputCtx.drawImage(video, 0, 0, w, h);
  const x = tf.tidy(() => tf.div(tf.cast(tf.browser.fromPixels(input), 'float32'), 255) as tf.Tensor3D);
  let y: tf.Tensor3D | undefined;
  try {
    y = await s.sharpen(x);
    const clipped = tf.tidy(() => tf.clipByValue(y!, 0, 1) as tf.Tensor3D);
    try {
      if (temporal) {
        const [oh, ow] = clipped.shape;
        const rgba = await tf.browser.toPixels(clipped);
        const inPixels = inputCtx.getImageData(0, 0, w, h).data;
        const out = temporal.push({ data: inPixels, width: w, height: h, channels: 4 }, { data: rgba, width: ow, height: oh, channels: 4 });
        if (after.width !== ow || after.height !== oh) {
          after.width = ow;
          after.height = oh;
        }
        after.getContext('2d')!.putImageData(new ImageData(out.data as Uint8ClampedArray<ArrayBuffer>, ow, oh), 0, 0);
      } else {
        await tf.browser.toPixels(clipped, after);
      }
    } finally {
      clipped.dispose();
    }
  } finally {
    x.dispose();
    y?.dispose();
  }
  before.width = after.width;
  before.height = after.height;
  const bctx = before.getContext('2d')!;
  bctx.imageSmoothingQuality = 'high';
  bctx.drawImage(input, 0, 0, before.width, before.height);
}

async function frameLoop(gen: number): Promise<void> {
  while (gen === generation) {
    await nextFrame();
    if (gen !== generation || !student || busy || video.readyState < 2 || video.videoWidth === 0) continue;
    busy = true;
    try {
      await processFrame(student);
      frames++;
      const now = performance.now();
      times.push(now);
      while (times.length > 2 && now - times[0] > 2000) times.shift();
      const fps = times.length > 1 ? ((times.length - 1) * 1000) / (now - times[0]) : 0;
      document.body.dataset.frames = String(frames);
      document.body.dataset.fps = fps.toFixed(1);
      document.body.dataset.tensors = String(tf.memory().numTensors);
      if (frames === 1) $('compare').hidden = false;
      setState('running', `${input.width}×${input.height} → ${after.width}×${after.height} with ${student.info.name} on ${student.info.backend}: ${fps.toFixed(1)} fps (${frames} frames)`);
    } catch (e) {
      console.error(e);
      setState('error', `Failed: ${(e as Error).message}`);
      generation++;
    } finally {
      busy = false;
    }
  }
}

/** (Re)starts with the current model and engine on whatever the video element plays. */
async function start(): Promise<void> {
  const gen = ++generation;
  try {
    setState('loading', 'Preparing the engine…');
    const backend = await selectBackend(backendSelect.value);
    const s = await loadModel(modelSelect.value, backend);
    if (gen !== generation) return;
    student = s;
    document.body.dataset.backend = s.info.backend;
    document.body.dataset.model = s.info.name;
    $('after-label').textContent = s.info.name === 'bicubic' ? 'bicubic (no model)' : `${s.info.name} student`;
    frames = 0;
    times.length = 0;
    const strength = Number(temporalSelect.value);
    temporal = strength > 0 ? new TemporalFilter({ strength }) : undefined;
    document.body.dataset.temporal = String(strength);
    await video.play();
    setState('running', `Running ${s.info.name} on ${s.info.backend}…`);
    void frameLoop(gen);
  } catch (e) {
    console.error(e);
    setState('error', `Failed: ${(e as Error).message}`);
  }
}

function useSource(src: { file?: File; stream?: MediaStream }): void {
  if (video.src.startsWith('blob:')) URL.revokeObjectURL(video.src);
  const old = video.srcObject as MediaStream | null;
  old?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  video.removeAttribute('src');
  if (src.file) video.src = URL.createObjectURL(src.file);
  else if (src.stream) video.srcObject = src.stream;
  void start();
}

async function init(): Promise<void> {
  const models = await availableModels(modelBaseUrl);
  for (const name of [...models, 'bicubic']) modelSelect.add(new Option(name === 'bicubic' ? 'bicubic (no model)' : name, name));
  if (models.length === 0) addNote('No trained weights were found in models/: showing bicubic interpolation, not the student.');
  fileInput.addEventListener('change', () => fileInput.files?.[0] && useSource({ file: fileInput.files[0] }));
  $('pattern').addEventListener('click', () => useSource({ stream: testPattern() }));
  $('webcam').addEventListener('click', async () => {
    try {
      useSource({ stream: await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false }) });
    } catch (e) {
      setState('error', `No webcam: ${(e as Error).message}`);
    }
  });
  for (const el of [modelSelect, backendSelect, temporalSelect]) el.addEventListener('change', () => (video.currentSrc || video.srcObject) && void start());
  slider.addEventListener('input', () => $('frame').style.setProperty('--split', `${slider.value}%`));
  video.addEventListener('error', () => setState('error', `This browser cannot play the video (${video.error?.message ?? 'unknown format'}).`));
  setState('ready', 'Ready: choose a video, the webcam or the test pattern.');
}

void init();
