/**
 * Browser demo: drop an image, upscale it ×4 with the shipped student, compare with bicubic.
 *
 * What an app needs to do to run sharpen-kd in a browser (see engines.ts):
 *  1. import the engines it wants: onnxruntime-web, handed to `provideOnnxRuntime(ort)` with `ort.env.wasm.wasmPaths`
 *     pointing at its served files, and/or TF.js backends (`@tensorflow/tfjs-backend-webgl`, `-wasm` with
 *     `setWasmPaths`); serve the page cross-origin isolated (COOP/COEP, vite.config.ts) for wasm threads;
 *  2. `Student.load('x4', { modelBaseUrl })` with the URL the `models/` folder is served from;
 *  3. `student.sharpen(imageData)` returns an `ImageData` ready for a canvas.
 *
 * The page reports on `<body>`: data-state, data-model, data-backend (`onnx` or the TF.js backend), data-engine (e.g.
 * `ONNX Runtime · wasm`) and, after "Measure fps", data-fps.
 */
import { benchmarkFps, type Student } from 'sharpen-kd';
import { proceduralImage } from 'sharpen-kd/data';
import { ENGINES, engineName, loadStudent, type EngineChoice } from './engines';
import { availableModels } from './models-index';

/** Longest side of the output; larger inputs are reduced first so that the demo stays within memory. */
const MAX_OUTPUT_SIDE = 3072;
const modelBaseUrl = new URL('models/', location.href).href;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>('file');
const drop = $<HTMLLabelElement>('drop');
const modelSelect = $<HTMLSelectElement>('model');
const backendSelect = $<HTMLSelectElement>('backend');
const note = $<HTMLParagraphElement>('note');
const status = $<HTMLParagraphElement>('status');
const compare = $<HTMLElement>('compare');
const before = $<HTMLCanvasElement>('before');
const after = $<HTMLCanvasElement>('after');
const slider = $<HTMLInputElement>('slider');
const download = $<HTMLAnchorElement>('download');
const fpsButton = $<HTMLButtonElement>('fps');
const fpsResult = $<HTMLParagraphElement>('fps-result');

let current: ImageData | undefined;
const notes = new Set<string>();

function setState(state: 'loading' | 'ready' | 'working' | 'done' | 'error', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

function addNote(text: string): void {
  notes.add(text);
  note.textContent = [...notes].join(' ');
  note.hidden = false;
}


const loaded = new Map<string, Promise<Student>>();
/** Loads (once per model and engine) a student; bicubic interpolation when the weights cannot be loaded. */
function loadModel(name: string, engine: EngineChoice): Promise<Student> {
  const key = `${name}@${engine}`;
  let p = loaded.get(key);
  if (!p) {
    p = loadStudent(name, engine, modelBaseUrl).catch((e: Error) => {
      if (name === 'bicubic') throw e;
      addNote(`Could not load model "${name}" on ${engine} (${e.message}): showing bicubic interpolation instead.`);
      return loadStudent('bicubic', engine, modelBaseUrl);
    });
    // A failed load is not kept: choosing the engine again retries it.
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/** Draws any image source into ImageData, reduced when the output would exceed MAX_OUTPUT_SIDE. */
function toImageData(src: CanvasImageSource & { width: number; height: number }, scale: number): ImageData {
  const limit = Math.floor(MAX_OUTPUT_SIDE / scale);
  const k = Math.min(1, limit / Math.max(src.width, src.height));
  if (k < 1) addNote(`The image was reduced to ${Math.round(src.width * k)}×${Math.round(src.height * k)} before upscaling (output capped at ${MAX_OUTPUT_SIDE} px).`);
  const w = Math.max(1, Math.round(src.width * k));
  const h = Math.max(1, Math.round(src.height * k));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(src, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

function sampleImage(): ImageData {
  const img = proceduralImage(11, 160, 120);
  const rgba = new Uint8ClampedArray(160 * 120 * 4);
  for (let i = 0, j = 0; i < img.data.length; i += 3, j += 4) {
    rgba[j] = Number(img.data[i]);
    rgba[j + 1] = Number(img.data[i + 1]);
    rgba[j + 2] = Number(img.data[i + 2]);
    rgba[j + 3] = 255;
  }
  return new ImageData(rgba, 160, 120);
}

function paint(canvas: HTMLCanvasElement, img: ImageData): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

/** Times whole 1280×720 output frames of the current model on the current engine (benchmarkFps, 2 + 8 frames). */
async function measureFps(): Promise<void> {
  fpsButton.disabled = true;
  try {
    const student = await loadModel(modelSelect.value, backendSelect.value as EngineChoice);
    fpsResult.hidden = false;
    fpsResult.textContent = `Timing ${student.info.name} on ${engineName(student)}…`;
    const r = await benchmarkFps({ model: student, width: 1280, height: 720, warmup: 2, runs: 8, reference: false });
    document.body.dataset.fps = r.fps.toFixed(2);
    fpsResult.textContent = `${student.info.name} on ${engineName(student)}: ${r.fps.toFixed(1)} fps (${r.msMedian.toFixed(1)} ms per 1280×720 output frame, median of 8; p95 ${r.msP95.toFixed(1)} ms).`;
  } catch (e) {
    fpsResult.textContent = `Timing failed: ${(e as Error).message}`;
  } finally {
    fpsButton.disabled = false;
  }
}

let runId = 0;
async function run(): Promise<void> {
  if (!current) return;
  const id = ++runId;
  const input = current;
  try {
    setState('working', 'Loading the model…');
    const engine = backendSelect.value as EngineChoice;
    const student = await loadModel(modelSelect.value, engine);
    const bicubic = await loadModel('bicubic', engine);
    setState('working', `Upscaling ${input.width}×${input.height} with ${student.info.name} on ${engineName(student)}…`);
    const t0 = performance.now();
    const out = (await student.sharpen(input, {
      onProgress: (p) => id === runId && setState('working', `Upscaling… tile ${p.done}/${p.total ?? '?'}`),
    })) as ImageData;
    const ms = performance.now() - t0;
    const ref = (await bicubic.sharpen(input)) as ImageData;
    if (id !== runId) return;
    paint(before, ref);
    paint(after, out);
    compare.hidden = false;
    $('after-label').textContent = student.info.name === 'bicubic' ? 'bicubic (no model)' : `${student.info.name} student`;
    document.body.dataset.model = student.info.name;
    document.body.dataset.backend = student.info.backend;
    document.body.dataset.engine = engineName(student);
    after.toBlob((blob) => blob && (download.href = URL.createObjectURL(blob)), 'image/png');
    fpsButton.disabled = student.info.name === 'bicubic';
    setState('done', `${input.width}×${input.height} → ${out.width}×${out.height} with ${student.info.name} (${student.info.params} parameters) on ${engineName(student)} in ${ms.toFixed(0)} ms (first run, loading included).`);
  } catch (e) {
    console.error(e);
    setState('error', `Failed: ${(e as Error).message}`);
  }
}

async function useFile(file: File): Promise<void> {
  try {
    const bitmap = await createImageBitmap(file);
    current = toImageData(bitmap, 4);
    bitmap.close();
  } catch {
    setState('error', `Cannot decode ${file.name}: is it an image?`);
    return;
  }
  await run();
}

async function init(): Promise<void> {
  for (const e of ENGINES) backendSelect.add(new Option(e.label, e.choice));
  const models = await availableModels(modelBaseUrl);
  for (const name of [...models, 'bicubic']) modelSelect.add(new Option(name === 'bicubic' ? 'bicubic (no model)' : name, name));
  if (models.length === 0) {
    addNote('No trained weights were found in models/ (they appear once the students are trained): showing bicubic interpolation, not the student.');
  }
  fileInput.addEventListener('change', () => fileInput.files?.[0] && void useFile(fileInput.files[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void useFile(file);
  });
  $('sample').addEventListener('click', () => {
    current = sampleImage();
    void run();
  });
  modelSelect.addEventListener('change', () => void run());
  backendSelect.addEventListener('change', () => void run());
  fpsButton.addEventListener('click', () => void measureFps());
  slider.addEventListener('input', () => $('frame').style.setProperty('--split', `${slider.value}%`));
  setState('ready', 'Ready: drop an image or use the sample.');
}

void init();
