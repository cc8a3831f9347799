/** The JPEG degradation: a float RGB image through an 8-bit JPEG encode / decode (sharp, Node only). */
import { ConfigError } from '../errors';
import { loadSharp } from '../io/node-image';

/**
 * Encodes a float RGB image as JPEG at `quality` and decodes it back (sharp, Node only).
 *
 * @example
 * ```ts
 * const compressed = await jpegRoundTrip(patch, 48, 48, 75);
 * ```
 */
export async function jpegRoundTrip(rgb: Float32Array, width: number, height: number, quality: number): Promise<Float32Array> {
  let sharp: Awaited<ReturnType<typeof loadSharp>>;
  try {
    sharp = await loadSharp();
  } catch (e) {
    throw new ConfigError('the JPEG degradation needs sharp (Node.js); disable it with jpeg: false', { cause: e });
  }
  const u8 = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) u8[i] = Math.max(0, Math.min(255, Math.round(rgb[i] * 255)));
  const jpg = await sharp(Buffer.from(u8.buffer), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
  const { data } = await sharp(jpg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = data[i] / 255;
  return out;
}
