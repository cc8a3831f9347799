/**
 * The output stage of a luma-detail student, done here instead of in its graph, straight into an I420 frame.
 *
 * The shipped ×2 and ×4 students end in `output = clip(bilinear_up(input) + luma_detail)` (the detail, one channel,
 * added to R, G and B alike), and for video `i420-output.ts` converts that to Y′CbCr 4:2:0. In ONNX Runtime that
 * stage is eight passes over the full-size frame (Resize, Add, Clip, AveragePool, two 1×1 convs, QuantizeLinear,
 * Concat): about a quarter of the ×4 student's time at 1280×720, on one thread. Here the graph stops at the detail
 * (`withLumaDetailOutput`), and `luma-detail-i420.wat` does the rest in WebAssembly SIMD in two passes (bilinear
 * along x on the input's rows; then along y, + detail, clamp, Y and 4:2:0 chroma per pair of output rows).
 *
 * Same arithmetic as the graph path, in another order of float operations: the bytes agree with it except for a
 * rare ±1 where a value lies within rounding of a half level (the tests bound both). Scales 2 and 4; the output
 * width must be a multiple of 4 and the height even.
 */
import { lazyWasmModule } from '../core/wasm-simd';
import { WASM_BYTES } from './luma-detail-i420-wasm';

interface TailExports {
  memory: WebAssembly.Memory;
  hpass(src: number, dst: number, w: number, rows: number, s: number): void;
  tail(up: number, detail: number, out: number, w: number, h: number, s: number, coef: number): void;
}

const wasmModule = lazyWasmModule(WASM_BYTES);

/**
 * @internal The luma-detail output stage for one frame size (`w × h` input, ×`scale`), with its own memory. Use
 * {@link LumaDetailI420.create}, which returns undefined where it cannot run (no WebAssembly SIMD, another scale,
 * an output width not a multiple of 4 or an odd height).
 */
export class LumaDetailI420 {
  private readonly x: TailExports;
  private readonly at: { planes: number; up: number; detail: number; out: number; coef: number };
  private readonly outBytes: number;

  static create(w: number, h: number, scale: number): LumaDetailI420 | undefined {
    const W = w * scale;
    const H = h * scale;
    if ((scale !== 2 && scale !== 4) || W % 4 !== 0 || H % 2 !== 0 || w < 1 || h < 1) return undefined;
    const mod = wasmModule();
    return mod ? new LumaDetailI420(mod, w, h, scale) : undefined;
  }

  private constructor(mod: WebAssembly.Module, readonly w: number, readonly h: number, readonly scale: number) {
    const W = w * scale;
    const H = h * scale;
    const align = (v: number) => (v + 15) & ~15;
    const planes = 0;
    const up = align(planes + 4 * 3 * (h + 2) * (w + 2) + 16); // + 16: hpass reads up to 4 bytes past the last row
    const detail = align(up + 4 * 3 * (h + 2) * W);
    const out = align(detail + 4 * W * H);
    const coef = align(out + 1.5 * W * H);
    const end = coef + 4 * 9;
    this.x = new WebAssembly.Instance(mod).exports as unknown as TailExports;
    const pages = Math.ceil(end / 65536) - this.x.memory.buffer.byteLength / 65536;
    if (pages > 0) this.x.memory.grow(pages);
    this.at = { planes, up, detail, out, coef };
    this.outBytes = 1.5 * W * H;
  }

  /**
   * The I420 frame of one output: `input` is the model's input (planar float RGB, `[3, h, w]`, as the graph took it),
   * `detail` the graph's luma detail (`[H, W]` floats), `weights` the colour matrix (`i420ConvWeights`). Returns new
   * bytes.
   */
  run(input: Float32Array, detail: Float32Array, weights: { luma: Float32Array; chroma: Float32Array }): Uint8Array {
    const { w, h, scale, x, at } = this;
    const W = w * scale;
    const H = h * scale;
    if (input.length !== 3 * w * h || detail.length !== W * H) throw new Error(`luma-detail tail: got ${input.length} input and ${detail.length} detail samples for ${w}x${h} ×${scale}`);
    const buf = x.memory.buffer;
    // The input planes, each with one replicated pixel on every side.
    const pw = w + 2;
    const planes = new Float32Array(buf, at.planes, 3 * (h + 2) * pw);
    for (let c = 0; c < 3; c++) {
      const base = c * (h + 2) * pw;
      for (let y = 0; y < h; y++) {
        const src = c * w * h + y * w;
        const row = base + (y + 1) * pw;
        planes.set(input.subarray(src, src + w), row + 1);
        planes[row] = input[src];
        planes[row + w + 1] = input[src + w - 1];
      }
      planes.copyWithin(base, base + pw, base + 2 * pw);
      planes.copyWithin(base + (h + 1) * pw, base + h * pw, base + (h + 1) * pw);
    }
    new Float32Array(buf, at.detail, W * H).set(detail);
    const coef = new Float32Array(buf, at.coef, 9);
    coef.set(weights.luma, 0);
    for (let i = 0; i < 6; i++) coef[3 + i] = weights.chroma[i] * 0.25; // applied to 2×2 sums: exactly the mean's products
    x.hpass(at.planes, at.up, w, 3 * (h + 2), scale);
    x.tail(at.up, at.detail, at.out, w, h, scale, at.coef);
    return new Uint8Array(buf, at.out, this.outBytes).slice();
  }
}
