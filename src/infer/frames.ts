/** Animated inputs: every frame is sharpened on its own (tiles never reach into the next frame), then restacked. */
import type { SharpenOptions } from './student-options';
import { samplesLike, type ImageSamples, type RawImage } from '../io/raw-image';

/** What {@link sharpenFrames} needs of a `Student` (typed by shape, so that this module does not import student.ts). */
export interface FrameSharpener {
  sharpenPixels(src: RawImage<ImageSamples>, opts: SharpenOptions & { float?: boolean }): Promise<RawImage<ImageSamples>>;
}

/**
 * Sharpens `frames` equal frames stacked top to bottom in `src`, one after the other, and returns the outputs
 * stacked the same way. One frame is a plain `Student.sharpenPixels`. Progress reports carry `info.frame` (`"k/n"`).
 */
export async function sharpenFrames(
  student: FrameSharpener,
  src: RawImage<ImageSamples>,
  frames: number,
  opts: SharpenOptions & { float?: boolean } = {},
): Promise<RawImage<ImageSamples>> {
  if (frames <= 1) return student.sharpenPixels(src, opts);
  const height = src.height / frames;
  if (!Number.isInteger(height)) throw new Error(`internal: ${src.height} rows do not split into ${frames} frames`);
  const per = src.width * height * src.channels;
  let dst: RawImage<ImageSamples> | undefined;
  for (let k = 0; k < frames; k++) {
    const frame: RawImage<ImageSamples> = { ...src, height, data: src.data.subarray(k * per, (k + 1) * per) };
    const out = await student.sharpenPixels(frame, {
      ...opts,
      onProgress: opts.onProgress && ((p) => opts.onProgress?.({ ...p, info: { ...p.info, frame: `${k + 1}/${frames}` } })),
    });
    if (!dst) {
      dst = { ...out, height: out.height * frames, data: samplesLike(out.data, out.data.length * frames) };
    }
    dst.data.set(out.data, k * out.data.length);
  }
  return dst!;
}
