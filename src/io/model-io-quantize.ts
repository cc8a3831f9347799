/**
 * Weight quantisation for saved models, in the format tfjs-core dequantises on load
 * (`quantization: { dtype: 'float16' }` or `{ dtype: 'uint8', min, scale }` in the weights manifest,
 * value = q * scale + min), the same as the tensorflowjs converter writes.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Weight storage precision of a saved model.
 *
 * @example
 * ```ts
 * const quantize: WeightQuantization = 'float16'; // half the size, no visible loss
 * await saveModel(model, 'models/mine', { quantize });
 * ```
 */
export type WeightQuantization = 'float16' | 'uint8';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** @internal IEEE float32 -> float16 bits, round to nearest even, with subnormals, Inf and NaN. */
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** @internal Affine uint8 quantisation with zero exactly representable. */
export function quantizeUint8(values: Float32Array): { data: Uint8Array; min: number; scale: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    if (values.length === 0) return { data: new Uint8Array(0), min: 0, scale: 1 };
    throw new RangeError('cannot quantize non-finite weights to uint8');
  }
  let scale = (hi - lo) / 255;
  let min = lo;
  if (scale === 0) scale = 1;
  else if (lo < 0 && hi > 0) min = -Math.round(-lo / scale) * scale; // nudge so that 0 maps to an integer
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.max(0, Math.min(255, Math.round((values[i] - min) / scale)));
  return { data, min, scale };
}

/**
 * @internal Re-encodes float32 weights of `specs`/`data` with the given quantisation (other dtypes are kept).
 */
export function quantizeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  dtype: WeightQuantization,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new RangeError(`weight ${spec.name} is already quantized`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * 4; // float32 and int32 both take 4 bytes; bool takes 1
    const size = spec.dtype === 'bool' ? n : bytes;
    const raw = new Uint8Array(data, offset, size);
    offset += size;
    if (spec.dtype !== 'float32') {
      parts.push(raw.slice());
      outSpecs.push({ ...spec });
      continue;
    }
    const values = new Float32Array(raw.slice().buffer);
    if (dtype === 'float16') {
      const half = new Uint16Array(n);
      for (let i = 0; i < n; i++) half[i] = float32ToFloat16Bits(values[i]);
      parts.push(new Uint8Array(half.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      const q = quantizeUint8(values);
      parts.push(q.data);
      outSpecs.push({ ...spec, quantization: { dtype: 'uint8', min: q.min, scale: q.scale } });
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { specs: outSpecs, data: out.buffer };
}
