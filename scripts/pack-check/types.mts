// Type-checked as an ES module: the `import` conditions and their .d.ts files.
import { Student, type SharpenOptions } from 'sharpen-kd';
import { decodeImage } from 'sharpen-kd/data';
import { ssim } from 'sharpen-kd/metrics';
import { loadModel } from 'sharpen-kd/models';
import { modelToOnnx } from 'sharpen-kd/onnx';
import { train, type TrainOptions } from 'sharpen-kd/train';
import { benchmarkConvKernels } from 'sharpen-kd/wasm';
const opts: SharpenOptions = { tile: 128 };
const t: TrainOptions = { schedule: { steps: 1 } };
const x: Promise<number> = ssim({ data: new Float32Array(3), width: 1, height: 1, channels: 3 }, { data: new Float32Array(3), width: 1, height: 1, channels: 3 });
void [Student, decodeImage, loadModel, modelToOnnx, train, benchmarkConvKernels, opts, t, x];
