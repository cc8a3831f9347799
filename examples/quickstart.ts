/**
 * Quick start: sharpen (upscale ×4) an image with the shipped student and score it.
 *
 *   npm run quickstart                      # a synthetic test card the example draws itself
 *   npm run quickstart -- photo.png         # your own image (used as the ground truth)
 *   npm run quickstart -- photo.png --out out/
 *
 * The image is treated as the high-resolution ground truth: it is downscaled ×4 with MATLAB-style bicubic (the
 * protocol of the super-resolution literature), upscaled back by the student, and compared with the original
 * (PSNR / SSIM on the Y channel, 4-pixel border ignored). Plain bicubic upscaling is scored alongside.
 * When the trained weights are not installed (`models/x4/` missing) it falls back to `bicubic` and says so.
 */
import * as path from 'node:path';
import { benchmarkFps, psnr, readImage, SharpenError, ssim, Student, writeImage, type RawImage } from 'sharpen-kd';
import { proceduralImage } from 'sharpen-kd/data';
import { modCrop, resizeBicubic } from 'sharpen-kd/metrics';

const SCALE = 4;

/** A 512×512 synthetic test card: edges at all angles, gratings, strokes and gradients. */
function testCard(): RawImage {
  return proceduralImage(2024, 512, 512); // an 8-bit RGB RawImage
}

/** The shipped ×4 student, or bicubic interpolation when its weights are not installed. */
async function loadStudent(): Promise<Student> {
  try {
    return await Student.load('x4');
  } catch (e) {
    if (!(e instanceof SharpenError && e.code === 'E_MODEL')) throw e;
    console.warn(`! ${e.message}`);
    console.warn(`! Falling back to 'bicubic' interpolation: the numbers below are the bicubic baseline, not the student.`);
    return Student.load('bicubic', { scale: SCALE });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? args.splice(outIdx, 2)[1] : path.join(import.meta.dirname, 'out');
  const file = args[0];

  const hr = modCrop(file ? await readImage(file) : testCard(), SCALE);
  const lr = resizeBicubic(hr, 1 / SCALE);
  console.log(`input: ${file ?? 'synthetic test card'} — ${hr.width}x${hr.height}, downscaled to ${lr.width}x${lr.height}`);

  const student = await loadStudent();
  try {
    const { name, arch, backend, params } = student.info;
    console.log(`model: ${name} (${arch}, ${params} parameters) on ${backend}`);

    const t0 = performance.now();
    const sr = await student.sharpen(lr);
    const ms = performance.now() - t0;
    const bicubic = resizeBicubic(lr, SCALE);

    const protocol = { yChannel: true, crop: SCALE };
    const row = async (label: string, img: RawImage) =>
      `${label.padEnd(10)} PSNR ${(await psnr(img, hr, protocol)).toFixed(2)} dB   SSIM ${(await ssim(img, hr, protocol)).toFixed(4)}`;
    console.log(await row('bicubic', bicubic));
    console.log(await row(name, sr));
    console.log(`sharpened ${lr.width}x${lr.height} -> ${sr.width}x${sr.height} in ${ms.toFixed(0)} ms (first call, includes warm-up)`);

    // Frame rate for 640x360 output frames (small, so that the example stays quick; try 1920x1080 yourself).
    const fps = await benchmarkFps({ model: student, width: 640, height: 360, warmup: 2, runs: 8 });
    const ref = fps.reference ? `; ${fps.reference.name}: ${fps.reference.fps.toFixed(0)} fps` : '';
    console.log(`speed: ${fps.fps.toFixed(1)} fps at 640x360 output (median ${fps.msMedian.toFixed(1)} ms on ${fps.backend})${ref}`);

    await writeImage(path.join(outDir, 'quickstart-lr.png'), lr);
    await writeImage(path.join(outDir, `quickstart-${name}.png`), sr);
    console.log(`wrote ${path.join(outDir, 'quickstart-lr.png')} and quickstart-${name}.png`);
  } finally {
    student.dispose();
  }
}

await main();
