/**
 * The per-sample half of the temporal filter (`temporal-filter.ts`): over the planes of an output frame, blend each
 * sample with the filter's state by the weight of the input pixel it lies in, and write the state rounded to 8 bits.
 * That is most of the filter's arithmetic (1.4 M samples per 1280×720 I420 frame), so it runs in WebAssembly SIMD
 * (`temporal-blend.wat`: eight samples per instruction) where the engine has it, and in plain JavaScript otherwise,
 * with the same integer arithmetic: the two give the same bytes.
 *
 * Fixed point: the state holds 7 fractional bits (0 … 255·128), the weights are Q15 (0 … 32767), and a step is
 * `s ← t + ((w·(s − t) + 2¹⁴) >> 15)` with `t = y·128`, then `y ← (s + 64) >> 7`.
 */
import { lazyWasmModule } from '../core/wasm-simd';
import { WASM_BYTES } from './temporal-blend-wasm';

/**
 * One plane of an output frame for `TemporalFilter.pushPlanes`: `width × height` pixels of `channels`
 * interleaved samples, from `offset` in the frame's bytes. Each of its pixels takes the weight of the input pixel it
 * lies in (`x · inputWidth / width`, rounded down; likewise down the rows).
 *
 * @example
 * ```ts
 * // I420 at 1280×720: Y, then Cb and Cr at half size
 * const planes: FramePlane[] = [
 *   { offset: 0, width: 1280, height: 720, channels: 1 },
 *   { offset: 921600, width: 640, height: 360, channels: 1 },
 *   { offset: 1152000, width: 640, height: 360, channels: 1 },
 * ];
 * ```
 */
export interface FramePlane {
  offset: number;
  width: number;
  height: number;
  channels: number;
}

type Bytes = Uint8Array | Uint8ClampedArray;

/** Fractional bits of the state. */
export const STATE_SHIFT = 7;
/** Weight scale: Q15. */
export const WEIGHT_ONE = 32768;

interface BlendExports {
  memory: WebAssembly.Memory;
  blend(y: number, s: number, w: number, n: number): void;
  gather(src: number, index: number, dst: number, n: number): void;
}

const wasmModule = lazyWasmModule(WASM_BYTES);

/** Per plane: the byte offset, into a row of Q15 weights, of each sample's input pixel. */
interface PlaneIndex {
  plane: FramePlane;
  /** Input row of each plane row. */
  rows: Int32Array;
  /** Input column × 2 (a byte offset into a row of 16-bit weights) of each sample of a plane row. */
  cols: Int32Array;
}

/**
 * @internal The blend over a fixed frame layout: `length` samples per frame, `planes` in them, weights from an
 * `inW × inH` input. Holds the state. `engine: 'js'` forces the JavaScript path (tests compare the two).
 */
export class PlaneBlender {
  /** The state, one value per sample of the frame (samples outside the planes unused). */
  readonly state: Uint16Array;
  /** Fill this with the Q15 weight of each input pixel before {@link blend}. */
  readonly weights: Uint16Array;
  readonly engine: 'wasm' | 'js';
  private readonly index: PlaneIndex[];
  private readonly wasm?: { exports: BlendExports; frame: Uint8Array; frameAt: number; stateAt: number; weightsAt: number; rowAt: number; colsAt: number[] };
  private readonly row: Uint16Array;
  private readonly inW: number;

  constructor(length: number, planes: readonly FramePlane[], inW: number, inH: number, engine: 'auto' | 'js' = 'auto') {
    this.inW = inW;
    this.index = planes.map((plane) => {
      const rows = Int32Array.from({ length: plane.height }, (_, py) => Math.min(inH - 1, Math.floor((py * inH) / plane.height)));
      const cols = new Int32Array(plane.width * plane.channels);
      for (let x = 0; x < plane.width; x++) {
        const col = Math.min(inW - 1, Math.floor((x * inW) / plane.width));
        for (let k = 0; k < plane.channels; k++) cols[x * plane.channels + k] = 2 * col;
      }
      return { plane, rows, cols };
    });
    const rowLength = Math.max(...this.index.map((p) => p.cols.length));
    const mod = engine === 'auto' ? wasmModule() : null;
    if (!mod) {
      this.engine = 'js';
      this.state = new Uint16Array(length);
      this.weights = new Uint16Array(inW * inH);
      this.row = new Uint16Array(rowLength);
      return;
    }
    // Memory: frame bytes, state, input weights, one spread row of weights, the column offsets of each plane.
    const align = (v: number) => (v + 15) & ~15;
    const frameAt = 0;
    const stateAt = align(frameAt + length);
    const weightsAt = align(stateAt + 2 * length);
    const rowAt = align(weightsAt + 2 * inW * inH);
    let end = align(rowAt + 2 * rowLength);
    const colsAt = this.index.map((p) => {
      const at = end;
      end = align(at + 4 * p.cols.length);
      return at;
    });
    const exports = new WebAssembly.Instance(mod).exports as unknown as BlendExports;
    const pages = Math.ceil(end / 65536) - exports.memory.buffer.byteLength / 65536;
    if (pages > 0) exports.memory.grow(pages);
    const buf = exports.memory.buffer;
    this.index.forEach((p, i) => new Int32Array(buf, colsAt[i], p.cols.length).set(p.cols));
    this.engine = 'wasm';
    this.state = new Uint16Array(buf, stateAt, length);
    this.weights = new Uint16Array(buf, weightsAt, inW * inH);
    this.row = new Uint16Array(buf, rowAt, rowLength);
    this.wasm = { exports, frame: new Uint8Array(buf, frameAt, length), frameAt, stateAt, weightsAt, rowAt, colsAt };
  }

  /** Starts over from `output`: the state becomes it. */
  reset(output: Bytes): void {
    const { state } = this;
    for (let i = 0; i < state.length; i++) state[i] = output[i] << STATE_SHIFT;
  }

  /**
   * Blends the planes of `output` with the state by {@link weights}, updating the state, and writes the frame to
   * `out` (which may be `output`): the planes' samples blended, the others copied.
   */
  blend(output: Bytes, out: Bytes): void {
    const { wasm, inW } = this;
    if (!wasm) {
      if (out !== output) out.set(output);
      for (const p of this.index) this.blendPlaneJs(out, p);
      return;
    }
    const { exports, frame, frameAt, stateAt, weightsAt, rowAt, colsAt } = wasm;
    frame.set(output);
    this.index.forEach(({ plane, rows, cols }, i) => {
      const n = cols.length;
      let last = -1;
      for (let py = 0; py < plane.height; py++) {
        if (rows[py] !== last) {
          last = rows[py];
          exports.gather(weightsAt + 2 * last * inW, colsAt[i], rowAt, n);
        }
        const at = plane.offset + py * n;
        exports.blend(frameAt + at, stateAt + 2 * at, rowAt, n);
      }
    });
    out.set(frame);
  }

  private blendPlaneJs(out: Bytes, { plane, rows, cols }: PlaneIndex): void {
    const { state, weights, row, inW } = this;
    const n = cols.length;
    let last = -1;
    for (let py = 0; py < plane.height; py++) {
      if (rows[py] !== last) {
        last = rows[py];
        const base = last * inW;
        for (let i = 0; i < n; i++) row[i] = weights[base + (cols[i] >> 1)];
      }
      blendScalar(out, state, row, plane.offset + py * n, n);
    }
  }
}

/** The blend of `n` samples from `at` (`row` holds their weights from 0): the arithmetic of temporal-blend.wat. */
function blendScalar(y: Bytes, state: Uint16Array, row: Uint16Array, at: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = y[at + i] << STATE_SHIFT;
    const v = t + ((row[i] * (state[at + i] - t) + 16384) >> 15);
    state[at + i] = v;
    y[at + i] = (v + 64) >> STATE_SHIFT;
  }
}
