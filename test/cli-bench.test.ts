import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process';
import { hasOrt } from './has-ort';

describe('sharpen-kd bench --arch (a student shape timed before training)', () => {
  it('builds the shape train would build and times it, with its parameters and FLOPs', async () => {
    const r = await runCli('bench', '--arch', 'compact', '--width', '8', '--depth', '2', '--scale', '2', '--detail', 'luma', '--residual-interpolation', 'bilinear', '--size', '32x24', '--warmup', '0', '--runs', '2', '--backend', 'cpu', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { model: string; params: number; gflops: number; width: number; height: number; backend: string };
    expect(j.model).toBe('compact 8×2 ×2, luma detail, bilinear residual (untrained)');
    expect(j.backend).toBe('cpu');
    expect([j.width, j.height]).toEqual([32, 24]);
    // 3→8, 8→8, 8→8, 8→(1·2·2) 3×3 convs with biases, and a PReLU per hidden conv (one alpha per channel).
    expect(j.params).toBe(3 * 8 * 9 + 8 + 2 * (8 * 8 * 9 + 8) + 8 * 4 * 9 + 4 + 3 * 8);
    expect(j.gflops).toBeGreaterThan(0);
    // One slope per layer: the same convs, three PReLU parameters.
    const layer = await runCli('bench', '--arch', 'compact', '--width', '8', '--depth', '2', '--scale', '2', '--detail', 'luma', '--residual-interpolation', 'bilinear', '--prelu-slopes', 'layer', '--size', '32x24', '--warmup', '0', '--runs', '2', '--backend', 'cpu', '--json');
    expect(layer.code, layer.err).toBe(0);
    const l = JSON.parse(layer.out) as typeof j;
    expect(l.model).toBe('compact 8×2 ×2, luma detail, bilinear residual, one PReLU slope per layer (untrained)');
    expect(l.params).toBe(j.params - 3 * 8 + 3);
  });

  it('says which flags do not go together', async () => {
    const noArch = await runCli('bench', '--width', '24', '--size', '32x32', '--runs', '1', '--backend', 'cpu');
    expect(noArch.code).not.toBe(0);
    expect(noArch.err).toMatch(/--width 24 describe a student to build: add --arch compact/);
    const both = await runCli('bench', '-m', 'x4', '--arch', 'compact', '--runs', '1', '--backend', 'cpu');
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/give --model .* or --arch .*, not both/);
    const teacher = await runCli('bench', '--arch', 'resnet', '--runs', '1', '--backend', 'cpu');
    expect(teacher.err).toMatch(/--arch resnet is the teacher, not a student/);
  });
});

describe('--int8 (a model\'s int8 graph on ONNX Runtime)', () => {
  it('bench --int8 times the int8 graph and names it; flags that do not go with it are refused', async () => {
    if (hasOrt) {
      const r = await runCli('bench', '-m', 'x2', '--int8', '--size', '64x48', '--warmup', '0', '--runs', '2', '--threads', '1', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ model: 'x2 (int8)', backend: 'onnx' });
      const none = await runCli('bench', '-m', 'x4', '--int8', '--size', '64x48', '--runs', '1');
      expect(none.code).not.toBe(0);
      expect(none.err).toMatch(/x4 has no int8 graph/);
    }
    const arch = await runCli('bench', '--arch', 'compact', '--int8', '--runs', '1', '--backend', 'cpu');
    expect(arch.code).not.toBe(0);
    expect(arch.err).toMatch(/--int8 runs a saved model's int8 graph/);
    const wasm = await runCli('bench', '-m', 'x2', '--int8', '--backend', 'wasm', '--runs', '1');
    expect(wasm.code).not.toBe(0);
    expect(wasm.err).toMatch(/precision 'int8' runs on ONNX Runtime/);
    const baseline = await runCli('eval', '--scale', '1', '--baseline', 'wiener-blind', '--int8', '--data', 'nowhere');
    expect(baseline.code).not.toBe(0);
    expect(baseline.err).toMatch(/drop --int8/);
  });
});
