// Type-checked as CommonJS (no "type": "module" in the consumer): the `require` conditions and their .d.cts files.
import { distill, train, useBackend, type BackendName, SharpenError, type TrainStudentOptions } from 'sharpen-kd';
import { openDataset, type PatchDataset } from 'sharpen-kd/data';
import { psnr, resizeBicubic } from 'sharpen-kd/metrics';
import { buildStudent, describeModel } from 'sharpen-kd/models';
import { createOnnxRunner, exportOnnx } from 'sharpen-kd/onnx';
import { type DistillOptions, ssimLoss } from 'sharpen-kd/train';
import { registerWasmTrainingKernels } from 'sharpen-kd/wasm';
const name: BackendName = 'wasm';
const p: Promise<string> = useBackend(name);
const e: SharpenError = new SharpenError('E_INPUT', 'x');
export async function check(data: PatchDataset, teacher: DistillOptions['teacher']): Promise<number> {
  const student = buildStudent({ scale: 2 });
  const opts: TrainStudentOptions = { student, data, schedule: { steps: 1 } };
  await train(opts);
  await distill({ ...opts, teacher });
  void [openDataset, resizeBicubic, describeModel, createOnnxRunner, exportOnnx, ssimLoss, registerWasmTrainingKernels, p, e];
  return psnr({ data: new Float32Array(3), width: 1, height: 1, channels: 3 }, { data: new Float32Array(3), width: 1, height: 1, channels: 3 });
}
