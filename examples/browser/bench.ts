/**
 * Frame rate of the shipped students on each engine of this browser (`engines.ts`), as a table. With `?autostart=1`
 * it runs on load; the browser test drives it that way and reads `window.benchResults`.
 *
 * Query: `models` (default `x4,x2`), `engines` (default: all), `width`×`height` of the output (default 1280×720),
 * `warmup` and `runs` (default 2 and 8), `check=1` to also keep each engine's output for a fixed 128×96 image
 * (`proceduralImage(42, 128, 96)`), which the test compares with Node's; for ONNX Runtime, `threads` (wasm threads;
 * default every core on this isolated page) and `spinning=off` (worker threads sleep between ops).
 *
 * The page reports on `<body>`: data-state (loading | ready | running | done | error).
 */
import { benchmarkFps, type RawImage } from 'sharpen-kd';
import { proceduralImage } from 'sharpen-kd/data';
import { ENGINES, engineName, loadStudent, unavailable, type EngineChoice } from './engines';
import { availableModels } from './models-index';

/** One model on one engine: its frame rate, or why it did not run. */
export interface BenchRow {
  model: string;
  choice: EngineChoice;
  /** The engine that ran, as `engineName` gives it (absent when skipped). */
  engine?: string;
  skipped?: string;
  width: number;
  height: number;
  fps?: number;
  msMedian?: number;
  msP95?: number;
  /** Output of the fixed image, base64 RGB bytes (`check=1`). */
  check?: { width: number; height: number; rgb: string };
}

declare global {
  interface Window {
    benchResults?: { rows: BenchRow[]; crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string };
  }
}

const q = new URLSearchParams(location.search);
const modelBaseUrl = new URL('models/', location.href).href;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const table = $<HTMLTableElement>('table');

function setState(state: 'loading' | 'ready' | 'running' | 'done' | 'error', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

function int(name: string, fallback: number): number {
  const v = Number(q.get(name) ?? fallback);
  return Number.isInteger(v) && v >= 0 ? v : fallback;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function render(rows: BenchRow[]): void {
  const head = '<tr><th>model</th><th>engine</th><th>output</th><th>fps</th><th>ms / frame (median)</th><th>p95 ms</th></tr>';
  table.innerHTML =
    head +
    rows
      .map((r) =>
        r.skipped
          ? `<tr><td>${r.model}</td><td>${ENGINES.find((e) => e.choice === r.choice)?.label}</td><td colspan="4">not available: ${r.skipped}</td></tr>`
          : `<tr><td>${r.model}</td><td>${r.engine}</td><td>${r.width}×${r.height}</td><td>${r.fps?.toFixed(2)}</td><td>${r.msMedian?.toFixed(1)}</td><td>${r.msP95?.toFixed(1)}</td></tr>`,
      )
      .join('');
}

async function run(): Promise<void> {
  const models = (q.get('models') ?? 'x4,x2').split(',').filter(Boolean);
  const served = await availableModels(modelBaseUrl);
  const choices = (q.get('engines')?.split(',') ?? ENGINES.filter((e) => e.choice !== 'auto').map((e) => e.choice)) as EngineChoice[];
  const width = int('width', 1280);
  const height = int('height', 720);
  const warmup = int('warmup', 2);
  const runs = Math.max(1, int('runs', 8));
  const check = q.get('check') === '1';
  const ortOptions = { threads: q.has('threads') ? Math.max(1, int('threads', 1)) : undefined, spinning: q.has('spinning') ? q.get('spinning') !== 'off' : undefined };
  const fixed = proceduralImage(42, 128, 96);
  const input: RawImage = { data: fixed.data, width: 128, height: 96, channels: 3, bits: 8 };
  const rows: BenchRow[] = [];
  for (const model of models) {
    if (!served.includes(model)) throw new Error(`model ${model} is not served at ${modelBaseUrl}`);
    for (const choice of choices) {
      if (!ENGINES.some((e) => e.choice === choice)) throw new Error(`unknown engine "${choice}": use ${ENGINES.map((e) => e.choice).join(', ')}`);
      const row: BenchRow = { model, choice, width, height };
      rows.push(row);
      const why = await unavailable(choice);
      if (why) {
        row.skipped = why;
        render(rows);
        continue;
      }
      setState('running', `${model} on ${choice}: loading…`);
      const student = await loadStudent(model, choice, modelBaseUrl, ortOptions);
      try {
        row.engine = engineName(student);
        if (check) {
          const out = (await student.sharpen(input)) as RawImage<Uint8Array>;
          row.check = { width: out.width, height: out.height, rgb: toBase64(out.data) };
        }
        setState('running', `${model} on ${row.engine}: timing ${runs} frames at ${width}×${height}…`);
        const r = await benchmarkFps({ model: student, width, height, warmup, runs, reference: false });
        Object.assign(row, { fps: r.fps, msMedian: r.msMedian, msP95: r.msP95 });
      } finally {
        student.dispose();
      }
      render(rows);
    }
  }
  window.benchResults = { rows, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
  $<HTMLPreElement>('result').textContent = JSON.stringify(rows.map(({ check: _, ...r }) => r));
  setState('done', `Done: ${rows.filter((r) => !r.skipped).length} runs, ${rows.filter((r) => r.skipped).length} engines not available here. ${crossOriginIsolated ? `Cross-origin isolated: ONNX Runtime's wasm runs on ${navigator.hardwareConcurrency} threads.` : 'Not cross-origin isolated: wasm runs on one thread.'}`);
}

$('start').addEventListener('click', () => {
  run().catch((e: Error) => {
    console.error(e);
    setState('error', `Failed: ${e.message}`);
  });
});
setState('ready', 'Ready: press Run (it takes a while on slow engines).');
if (q.get('autostart') === '1') $('start').click();
