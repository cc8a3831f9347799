/** float16 storage for cached teacher predictions: half the bytes of float32, ~1e-3 relative error. */
import { float32ToFloat16Bits } from '../io/model-io-quantize';

let table: Float32Array | undefined;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Encodes float32 values as IEEE float16 bits (round to nearest even).
 *
 * @example
 * ```ts
 * const half = encodeFloat16(new Float32Array([0.5, 1])); // Uint16Array [0x3800, 0x3c00]
 * ```
 */
export function encodeFloat16(a: Float32Array): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = float32ToFloat16Bits(a[i]);
  return out;
}

/**
 * Decodes float16 bits to float32 (table lookup).
 *
 * @example
 * ```ts
 * decodeFloat16(new Uint16Array([0x3800])); // Float32Array [0.5]
 * ```
 */
export function decodeFloat16(h: Uint16Array, out = new Float32Array(h.length)): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfToFloat(i);
  }
  for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
  return out;
}
