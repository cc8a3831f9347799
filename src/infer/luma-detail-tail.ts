/**
 * The output stage of a luma-detail student, done here instead of in its graph.
 *
 * The shipped ×2 and ×4 students end in `output = bilinear_up(input) + luma_detail` (the detail, one channel, added to
 * R, G and B alike). In ONNX Runtime the shuffle, the upsample and the sum are three passes over the full-size frame
 * (DepthToSpace, Resize, a broadcasting Add; the first two alone over a fifth of the ×4 student's time at 1280×720,
 * `lab/scripts/profile-ort.ts`). Here the graph stops at the detail (`lumaDetailModel`), and `luma-detail-tail.wat`
 * does the rest in WebAssembly SIMD in two passes (bilinear along x on the input's rows; then along y, + detail), writing either
 * - `rgb`: the graph's own output, planar float RGB. `Student` on ONNX Runtime cuts the graph one node earlier,
 *   before the pixel shuffle of the detail, and `rgbFromPhases` does the shuffle while it adds; or
 * - `i420`: for video, that clamped to [0, 1] and converted to an I420 frame (what the graph with `i420-output.ts`'s
 *   nodes gives), Y for every pixel and Cb, Cr from every 2×2 block.
 *
 * Same arithmetic as the graph, in another order of float operations: RGB agrees with it to float rounding; the I420
 * bytes agree except for a rare ±1 where a value lies within rounding of a half level (the tests bound both). Scales
 * 2 and 4; for I420 the output width must be a multiple of 4 and the height even.
 */
import { lazyWasmModule } from '../core/wasm-simd';
import { WASM_BYTES } from './luma-detail-tail-wasm';

interface TailExports {
  memory: WebAssembly.Memory;
  hpass(src: number, dst: number, w: number, rows: number, s: number): void;
  rgb(up: number, detail: number, out: number, w: number, h: number, s: number): void;
  rgb_phases(up: number, phases: number, out: number, w: number, h: number, s: number): void;
  tail(up: number, detail: number, out: number, w: number, h: number, s: number, coef: number): void;
}

const wasmModule = lazyWasmModule(WASM_BYTES);

/** What a {@link LumaDetailTail} writes. */
export type LumaDetailOutput = 'rgb' | 'i420';

/**
 * @internal The luma-detail output stage, with its own WebAssembly memory, which grows to the largest frame it has
 * run and is reused for every frame after. {@link LumaDetailTail.create} returns undefined without WebAssembly SIMD;
 * {@link LumaDetailTail.supports} tells which frames it takes.
 */
export class LumaDetailTail {
  private readonly x: TailExports;

  /** Whether a `w × h` input at ×`scale` can go through the tail: scales 2 and 4, and for I420 an even `H` and `W` in fours. */
  static supports(w: number, h: number, scale: number, output: LumaDetailOutput): boolean {
    if ((scale !== 2 && scale !== 4) || !(Number.isInteger(w) && Number.isInteger(h) && w >= 1 && h >= 1)) return false;
    return output === 'rgb' || ((w * scale) % 4 === 0 && (h * scale) % 2 === 0);
  }

  static create(): LumaDetailTail | undefined {
    const mod = wasmModule();
    return mod ? new LumaDetailTail(mod) : undefined;
  }

  private constructor(mod: WebAssembly.Module) {
    this.x = new WebAssembly.Instance(mod).exports as unknown as TailExports;
  }

  /**
   * Lays out the memory for one frame (growing it when needed), copies the planar input and the detail in and runs
   * the horizontal pass. The kernels run on `wp ≥ w` input columns, the extra ones replicating the last (only the
   * discarded output columns past `W` see them): `rgb` and `tail` go four output samples at a time (`wp = w + 1` at ×2
   * for an odd `w`), `rgb_phases` four input columns at a time (`wp` = `w` rounded up to a multiple of 4).
   */
  private load(input: Float32Array, detail: Float32Array, w: number, h: number, scale: number, output: LumaDetailOutput, phases = false) {
    if (!LumaDetailTail.supports(w, h, scale, output)) throw new Error(`luma-detail tail: ${w}x${h} ×${scale} cannot be written as ${output}`);
    const W = w * scale;
    const H = h * scale;
    if (input.length !== 3 * w * h || detail.length !== W * H) throw new Error(`luma-detail tail: got ${input.length} input and ${detail.length} detail samples for ${w}x${h} ×${scale}`);
    const wp = phases ? (w + 3) & ~3 : W % 4 === 0 ? w : w + 1;
    const Wp = wp * scale;
    const align = (v: number) => (v + 15) & ~15;
    const planes = 0;
    const up = align(planes + 4 * 3 * (h + 2) * (wp + 2) + 16); // + 16: hpass reads up to 4 bytes past the last row
    const det = align(up + 4 * 3 * (h + 2) * Wp);
    const out = align(det + 4 * Wp * H);
    const coef = align(out + (output === 'rgb' ? 4 * 3 * Wp * H : 1.5 * Wp * H));
    const end = coef + 4 * 9;
    const { x } = this;
    const pages = Math.ceil(end / 65536) - x.memory.buffer.byteLength / 65536;
    if (pages > 0) x.memory.grow(pages);
    const buf = x.memory.buffer;
    // The input planes, each with one replicated pixel on every side (and a second on the right when wp > w).
    const pw = wp + 2;
    const p = new Float32Array(buf, planes, 3 * (h + 2) * pw);
    for (let c = 0; c < 3; c++) {
      const base = c * (h + 2) * pw;
      for (let y = 0; y < h; y++) {
        const src = c * w * h + y * w;
        const row = base + (y + 1) * pw;
        p.set(input.subarray(src, src + w), row + 1);
        p[row] = input[src];
        p.fill(input[src + w - 1], row + w + 1, row + pw);
      }
      p.copyWithin(base, base + pw, base + 2 * pw);
      p.copyWithin(base + (h + 1) * pw, base + h * pw, base + (h + 1) * pw);
    }
    const d = new Float32Array(buf, det, Wp * H);
    // The detail's rows (H of W samples, or s²·h phase rows of w) at the kernels' width.
    const [rows, rw, rwp] = phases ? [scale * scale * h, w, wp] : [H, W, Wp];
    if (rwp === rw) d.set(detail);
    else for (let y = 0; y < rows; y++) d.set(detail.subarray(y * rw, (y + 1) * rw), y * rwp);
    x.hpass(planes, up, wp, 3 * (h + 2), scale);
    return { wp, up, det, out, coef };
  }

  /**
   * The graph's output of one image: `input` is the model's input (planar float RGB, `[3, h, w]`, as the graph took
   * it), `detail` the graph's luma detail (`[h·scale, w·scale]` floats). Returns new planar float RGB, or with
   * `view: true` (where the kernels' width is the output's) a view of the tail's memory, valid until its next call:
   * no copy out and no new 4·3·W·H-byte array per frame.
   */
  rgb(input: Float32Array, detail: Float32Array, w: number, h: number, scale: number, opts: { view?: boolean } = {}): Float32Array {
    return this.planarRgb(input, detail, w, h, scale, false, opts.view === true);
  }

  /**
   * {@link LumaDetailTail.rgb} from the detail before its pixel shuffle: `phases` is `[s², h, w]`, phase `i·s + j`
   * holding output pixel `(s·y + i, s·x + j)` (`lumaDetailModel` with `phases`), so the graph needs no DepthToSpace.
   */
  rgbFromPhases(input: Float32Array, phases: Float32Array, w: number, h: number, scale: number, opts: { view?: boolean } = {}): Float32Array {
    return this.planarRgb(input, phases, w, h, scale, true, opts.view === true);
  }

  private planarRgb(input: Float32Array, detail: Float32Array, w: number, h: number, scale: number, phases: boolean, view: boolean): Float32Array {
    const { wp, up, det, out } = this.load(input, detail, w, h, scale, 'rgb', phases);
    (phases ? this.x.rgb_phases : this.x.rgb)(up, det, out, wp, h, scale);
    const [W, H, Wp] = [w * scale, h * scale, wp * scale];
    const all = new Float32Array(this.x.memory.buffer, out, 3 * Wp * H);
    if (Wp === W) return view ? all : all.slice();
    const res = new Float32Array(3 * W * H);
    for (let r = 0; r < 3 * H; r++) res.set(all.subarray(r * Wp, r * Wp + W), r * W);
    return res;
  }

  /**
   * The I420 frame of one output: `input`, `detail` and the size as for {@link LumaDetailTail.rgb}, `weights` the
   * colour matrix (`i420ConvWeights`). Returns new bytes.
   */
  i420(input: Float32Array, detail: Float32Array, w: number, h: number, scale: number, weights: { luma: Float32Array; chroma: Float32Array }): Uint8Array {
    const { up, det, out, coef } = this.load(input, detail, w, h, scale, 'i420');
    const c = new Float32Array(this.x.memory.buffer, coef, 9);
    c.set(weights.luma, 0);
    for (let i = 0; i < 6; i++) c[3 + i] = weights.chroma[i] * 0.25; // applied to 2×2 sums: exactly the mean's products
    this.x.tail(up, det, out, w, h, scale, coef);
    return new Uint8Array(this.x.memory.buffer, out, 1.5 * w * scale * h * scale).slice();
  }
}
