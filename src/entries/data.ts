/**
 * Images and training data: reading and writing images (Node through sharp, browsers through a canvas), procedural
 * test images, datasets of `(lr, hr)` patch pairs from folders, DIV2K or pairs of LR / HR folders, the degradations
 * that make LR inputs (blur, motion blur, noise, JPEG), and the ×1 test protocols.
 *
 * @example
 * ```ts
 * import { decodeImage, openDataset, writeImage } from 'sharpen-kd/data';
 * const data = await openDataset(['../shared/data/T91'], { scale: 4, batchSize: 16, seed: 1 });
 * const img = await decodeImage(await (await fetch(url)).bytes());
 * await writeImage('copy.png', img);
 * ```
 *
 * @module sharpen-kd/data
 */
import type { RawImage } from '../io/raw-image';
export type { RawImage, ImageSamples, IntegerSamples, FloatSamples, ImageFormat } from '../io/raw-image';
export { sampleBits, sampleMax, toFloatRgb, fromFloatRgb } from '../io/raw-image';
export { readImage, writeImage, decodeImage, encodeImage, decodeImageWithProfile } from '../io/node-image';
export type { DecodedImage, EncodeOptions, DecodeOptions, ImageHeader, AnimationInfo } from '../io/node-image';
export { DEFAULT_MAX_PIXELS, DEFAULT_MAX_OUTPUT_PIXELS } from '../io/pixel-limits';
export { embedIccProfile } from '../io/icc-profile';
export { isImageDataLike, imageDataToRaw, rawToImageData, decodeImageBrowser, encodeImageBrowser } from '../io/browser-image';
export type { ImageDataLike } from '../io/browser-image';
export { IMAGE_EXTENSIONS, isImageFileName, listImageFiles } from '../io/image-files';
export { proceduralImage } from '../data/procedural';
/**
 * @deprecated Use {@link RawImage}`<Uint8Array | Float32Array>`, the one image type; the data pipeline's RGB images
 * are those with `channels: 3`.
 *
 * @example
 * ```ts
 * const img: RawImage<Uint8Array | Float32Array> = proceduralImage(7, 64, 64); // was: RgbImage
 * ```
 */
export type RgbImage = RawImage<Uint8Array | Float32Array>;
/**
 * @deprecated Use {@link RawImage}, the one image type, with its sample type (`RawImage<Float32Array>`, ...). There
 * is no `max`: the white level follows from the sample type (255, 65535, or 1 for float samples).
 *
 * @example
 * ```ts
 * // was: { data, width, height, channels: 3, max: 1 } as PixelBuffer
 * const src: RawImage<Float32Array> = { data: new Float32Array(64 * 48 * 3), width: 64, height: 48, channels: 3 };
 * ```
 */
export type PixelBuffer = RawImage<Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array>;
export { openDataset, imageFolderDataset, div2kDataset, pairedFolderDataset, syntheticDataset } from '../data/datasets';
export type { SyntheticOptions } from '../data/datasets';
export { openDatasetInWorker } from '../data/worker-dataset';
export { patchDataset, arraysToBatch } from '../data/patch-dataset';
export { mixDatasets } from '../data/mix';
export type { PatchOptions } from '../data/patch-dataset';
export type { PatchBatch, PatchArrays, PatchDataset, DatasetState } from '../data/types';
export { folderEntries, pairedEntries, div2kEntries, detectEntries } from '../data/sources';
export type { ImageEntry, ImageRef } from '../data/sources';
export { resolveDegradation, sampleDegradation, degradePatch, degradeImage, BLIND_X1_DEGRADATION } from '../data/degrade';
export type { DegradationOptions, RandomDegradation, ResolvedDegradation, DegradationParams, PlanCache } from '../data/degrade';
export { Rng } from '../core/rng';
export { jpegRoundTrip } from '../data/jpeg';
export { downscalePlan, downscaleCrop } from '../data/downscale';
export type { DownscalePlan } from '../data/downscale';
export { X1_PROTOCOLS, BLIND_X1_SEED, blindX1Params, degradeX1, gaussianX1Input, describeDegradationParams } from '../data/x1-protocol';
export type { X1Protocol, X1DegradeOptions } from '../data/x1-protocol';
