/** Animated inputs: every frame is sharpened on its own (tiles never reach into the next frame), then restacked. */
import type { SharpenOptions } from './student-options';
import type { PixelBuffer } from './pixels';

/** What {@link sharpenFrames} needs of a `Student` (typed by shape, so that this module does not import student.ts). */
export interface FrameSharpener {
  sharpenPixels(src: PixelBuffer, opts: SharpenOptions & { float?: boolean }): Promise<PixelBuffer>;
}

/**
 * Sharpens `frames` equal frames stacked top to bottom in `src`, one after the other, and returns the outputs
 * stacked the same way. One frame is a plain `Student.sharpenPixels`. Progress reports carry `info.frame` (`"k/n"`).
 */
export async function sharpenFrames(student: FrameSharpener, src: PixelBuffer, frames: number, opts: SharpenOptions & { float?: boolean } = {}): Promise<PixelBuffer> {
  if (frames <= 1) return student.sharpenPixels(src, opts);
  const height = src.height / frames;
  if (!Number.isInteger(height)) throw new Error(`internal: ${src.height} rows do not split into ${frames} frames`);
  const per = src.width * height * src.channels;
  let dst: PixelBuffer | undefined;
  for (let k = 0; k < frames; k++) {
    const frame: PixelBuffer = { ...src, height, data: src.data.subarray(k * per, (k + 1) * per) };
    const out = await student.sharpenPixels(frame, {
      ...opts,
      onProgress: opts.onProgress && ((p) => opts.onProgress?.({ ...p, info: { ...p.info, frame: `${k + 1}/${frames}` } })),
    });
    if (!dst) {
      const Ctor = out.data.constructor as new (n: number) => PixelBuffer['data'];
      dst = { ...out, height: out.height * frames, data: new Ctor(out.data.length * frames) };
    }
    (dst.data as Uint8Array).set(out.data as Uint8Array, k * out.data.length);
  }
  return dst!;
}
