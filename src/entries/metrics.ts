/**
 * Image quality, measured the way super-resolution papers measure it: PSNR and SSIM (Y channel, border crop),
 * MATLAB-compatible bicubic resizing (the baseline every result is compared with), and evaluation over a folder of
 * test images, of a `Student` or of a classical ×1 baseline (Wiener deconvolution, sharp's unsharp mask).
 *
 * @example
 * ```ts
 * import { modCrop, psnr, resizeBicubic, ssim } from 'sharpen-kd/metrics';
 * const hr = modCrop(await readImage('butterfly.png'), 4);
 * const bicubic = resizeBicubic(resizeBicubic(hr, 1 / 4), 4);
 * console.log(await psnr(bicubic, hr, { yChannel: true, crop: 4 }), await ssim(bicubic, hr, { yChannel: true, crop: 4 }));
 * ```
 *
 * @module sharpen-kd/metrics
 */
import type { FloatSamples, ImageSamples, RawImage } from '../io/raw-image';
export { psnr } from '../metrics/psnr';
export { ssim } from '../metrics/ssim';
export type { MetricImage, MetricOptions } from '../metrics/metric-input';
export { ssimTensor } from '../metrics/ssim-tensor';
export type { SsimTensorOptions } from '../metrics/ssim-tensor';
export { rgbToY } from '../metrics/y-channel';
export { modCrop } from '../metrics/mod-crop';
export { resizeBicubic } from '../metrics/resize-bicubic';
export type { ResizeBicubicOptions } from '../metrics/resize-bicubic';
export { resizeBicubicTensor, upscaleBicubic } from '../metrics/resize-tensor';
export type { ResizeTensorOptions } from '../metrics/resize-tensor';
export { imresizeFloat } from '../metrics/imresize';
export type { ImresizeOptions } from '../metrics/imresize';
export { protocolReference, bicubicInput, scoreImage, meanScores } from '../metrics/protocol';
export type { ProtocolReference, ImageScores } from '../metrics/protocol';
/**
 * @deprecated Use {@link RawImage}`<ImageSamples>`, the one image type; the value range follows from the sample type
 * (`maxVal` overrides it in the metrics).
 *
 * @example
 * ```ts
 * const img: RawImage<Float64Array> = { data: new Float64Array(16 * 16 * 3), width: 16, height: 16, channels: 3 }; // was: PixelArray
 * ```
 */
export type PixelArray = RawImage<ImageSamples>;
/**
 * @deprecated Use {@link RawImage}`<Float64Array>` (or `<Float32Array>`), the one image type.
 *
 * @example
 * ```ts
 * const img: RawImage<Float64Array> = { data: new Float64Array(8 * 8 * 3), width: 8, height: 8, channels: 3 }; // was: FloatImage
 * ```
 */
export type FloatImage = RawImage<FloatSamples>;
export { evaluateStudent } from '../infer/evaluate';
export type { EvaluateOptions, EvaluationReport, EvalImageInfo } from '../infer/evaluate';
export { X1_BASELINES, x1Baseline, evaluateX1Baseline } from '../classical/x1-baselines';
export type { X1BaselineName } from '../classical/x1-baselines';
export { wienerDeconvolve, estimateNoise, WIENER_X1 } from '../classical/deconvolve';
export type { BlurKernel, DeconvolveOptions } from '../classical/deconvolve';
export { blindDeconvolve, estimateBlurSigma, BLIND_X1_SHRINK } from '../classical/blind';
export type { BlurEstimateOptions } from '../classical/blind';
export { sharpSharpen, SHARP_SHARPEN_X1 } from '../classical/sharp-sharpen';
export type { SharpSharpenParams } from '../classical/sharp-sharpen';
