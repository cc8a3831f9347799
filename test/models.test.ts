import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { ConfigError } from '../src/errors';
import { describeModel } from '../src/models/describe';
import { getModelInfo } from '../src/models/metadata';
import { buildStudent, type StudentOptions } from '../src/models/student';
import { PixelShuffle } from '../src/models/layers/pixel-shuffle';
import { PixelUnshuffle } from '../src/models/layers/pixel-unshuffle';
import { upsampleInput } from '../src/models/layers/add-upsampled-input';
import { featureTaps, tapModel } from '../src/models/taps';
import { buildTeacher } from '../src/models/teacher';

const TINY: Record<string, Partial<StudentOptions>> = {
  espcn: { widths: [8, 4] },
  fsrcnn: { width: 8, shrink: 4, depth: 2 },
  compact: { width: 6, depth: 2 },
};

/** One SGD step on an L1 loss; returns [loss before, loss after, max |grad|]. */
function trainStep(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor4D): [number, number, number] {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const lossFn = () => tf.mean(tf.abs(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar;
    const before = lossFn().dataSync()[0];
    const { grads } = tf.variableGrads(lossFn, vars);
    const gmax = Math.max(...Object.values(grads).map((g) => tf.max(tf.abs(g)).dataSync()[0]));
    expect(Object.keys(grads).length).toBe(vars.length);
    tf.train.sgd(0.05).applyGradients(grads);
    const after = lossFn().dataSync()[0];
    return [before, after, gmax];
  });
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('students', () => {
  for (const arch of ['espcn', 'fsrcnn', 'compact'] as const) {
    for (const scale of [1, 2, 3, 4] as const) {
      it(`${arch} x${scale}: forward shape, gradients and an optimiser step on wasm`, () => {
        const m = buildStudent({ arch, scale, seed: 7, ...TINY[arch] });
        const x = tf.randomUniform([2, 6, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
        const y = tf.randomUniform([2, 6 * scale, 5 * scale, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
        const out = m.predict(x) as tf.Tensor;
        expect(out.shape).toEqual([2, 6 * scale, 5 * scale, 3]);
        out.dispose();
        const [before, after, gmax] = trainStep(m, x, y);
        expect(Number.isFinite(before) && Number.isFinite(after)).toBe(true);
        expect(gmax).toBeGreaterThan(0);
        expect(after).toBeLessThan(before);
        expect(getModelInfo(m)).toMatchObject({ arch, scale, role: 'student' });
        tf.dispose([x, y]);
        m.dispose();
      });
    }
  }

  it('works on any H, W (input shape [null, null, 3])', () => {
    const m = buildStudent({ arch: 'compact', scale: 3, width: 4, depth: 1 });
    expect(m.inputs[0].shape).toEqual([null, null, null, 3]);
    for (const [h, w] of [[1, 1], [7, 3], [16, 9]]) {
      const y = m.predict(tf.zeros([1, h, w, 3])) as tf.Tensor;
      expect(y.shape).toEqual([1, 3 * h, 3 * w, 3]);
      y.dispose();
    }
    m.dispose();
  });

  it('scale-1 and residual students start close to the (upsampled) input', () => {
    // compact: last conv initialised small, so output ~ nearest(input).
    const m = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, seed: 1 });
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = m.predict(x) as tf.Tensor;
    const up = tf.image.resizeNearestNeighbor(x, [16, 16]);
    expect(tf.max(tf.abs(tf.sub(y, up))).dataSync()[0]).toBeLessThan(0.3);
    tf.dispose([x, y, up]);
    m.dispose();
  });

  it('ESPCN x4 has the hand-counted parameters and MACs', () => {
    const m = buildStudent({ arch: 'espcn', scale: 4 });
    // conv5x5 3->64: 5*5*3*64+64; conv3x3 64->32: 3*3*64*32+32; conv3x3 32->48: 3*3*32*48+48.
    const params = 5 * 5 * 3 * 64 + 64 + (3 * 3 * 64 * 32 + 32) + (3 * 3 * 32 * 48 + 48);
    expect(params).toBe(37200);
    const d = describeModel(m, { inputSize: [180, 320] });
    expect(d.params).toBe(params);
    expect(d.trainableParams).toBe(params);
    const perPixel = 5 * 5 * 3 * 64 + 3 * 3 * 64 * 32 + 3 * 3 * 32 * 48;
    expect(d.macs).toBe(180 * 320 * perPixel);
    expect(d.outputShape).toEqual([1, 720, 1280, 3]);
    expect(d.receptiveField).toBe(9); // 5 + 2 + 2 LR pixels
    expect(d.flops).toBeGreaterThan(2 * d.macs);
    m.dispose();
  });

  it('x4 defaults stay under 40K parameters', () => {
    for (const arch of ['espcn', 'fsrcnn', 'compact'] as const) {
      const m = buildStudent({ arch, scale: 4 });
      expect(m.countParams()).toBeLessThanOrEqual(40_000);
      m.dispose();
    }
  });

  it('same seed -> same weights', () => {
    const a = buildStudent({ arch: 'fsrcnn', scale: 2, seed: 5, ...TINY.fsrcnn });
    const b = buildStudent({ arch: 'fsrcnn', scale: 2, seed: 5, ...TINY.fsrcnn });
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wa).toEqual(wb);
    a.dispose();
    b.dispose();
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => buildStudent({ scale: 5 as never })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'srgan' as never })).toThrow(/unknown student arch/);
    expect(() => buildStudent({ arch: 'espcn', depth: 3 })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'compact', width: 0 })).toThrow(/width/);
    expect(() => buildStudent({ arch: 'compact', residual: false })).toThrow(ConfigError);
    // Sizes past any student are a ConfigError, not a failed allocation deep inside TF.js.
    expect(() => buildStudent({ arch: 'compact', width: 100_000 })).toThrow(/width must be an integer from 1 to 1024, got 100000/);
    expect(() => buildStudent({ arch: 'compact', depth: 1000 })).toThrow(/depth must be an integer from 0 to 128/);
    expect(() => buildStudent({ arch: 'fsrcnn', shrink: 5000 })).toThrow(/shrink must be an integer from 1 to 1024/);
    expect(() => buildStudent({ arch: 'espcn', widths: [64, 1e6] })).toThrow(/widths\[1\] must be an integer from 1 to 1024/);
  });

  it('predict in a loop keeps the tensor count flat', () => {
    const m = buildStudent({ arch: 'espcn', scale: 2, ...TINY.espcn });
    const x = tf.zeros([1, 8, 8, 3]);
    const run = () => (m.predict(x) as tf.Tensor).dispose();
    run();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(n);
    x.dispose();
    m.dispose();
  });
});

describe('compact with pixel unshuffle', () => {
  it('PixelUnshuffle is the exact inverse of PixelShuffle, with TF spaceToDepth channel order', () => {
    const x = tf.randomUniform([2, 6, 4, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const down = new PixelUnshuffle({ factor: 2 }).apply(x) as tf.Tensor4D;
    expect(down.shape).toEqual([2, 3, 2, 12]);
    // Channel (i*r + j)*C + c of output pixel (h, w) is input pixel (h*r + i, w*r + j), channel c.
    const [xs, ds] = [x.arraySync(), down.arraySync()];
    for (const [h, w, i, j, c] of [[0, 0, 0, 0, 0], [1, 1, 1, 0, 2], [2, 1, 1, 1, 1], [2, 0, 0, 1, 2]]) {
      expect(ds[1][h][w][(i * 2 + j) * 3 + c]).toBe(xs[1][h * 2 + i][w * 2 + j][c]);
    }
    const back = new PixelShuffle({ scale: 2 }).apply(down) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]).toBe(0);
    expect(() => new PixelUnshuffle({ factor: 1 })).toThrow();
    tf.dispose([x, down, back]);
  });

  for (const [scale, unshuffle] of [[1, 2], [1, 4], [2, 2]] as const) {
    it(`x${scale}, unshuffle ${unshuffle}: any input size, ~1/${unshuffle * unshuffle} of the MACs, gradients and an optimiser step`, () => {
      const m = buildStudent({ arch: 'compact', scale, width: 8, depth: 2, unshuffle, seed: 4 });
      // 13 x 10 is not a multiple of 2 or 4: the model pads and crops internally.
      const x = tf.randomUniform([2, 13, 10, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = tf.randomUniform([2, 13 * scale, 10 * scale, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const out = m.predict(x) as tf.Tensor;
      expect(out.shape).toEqual([2, 13 * scale, 10 * scale, 3]);
      out.dispose();
      const [before, after, gmax] = trainStep(m, x, y);
      expect(gmax).toBeGreaterThan(0);
      expect(after).toBeLessThan(before);
      // At the default width and depth (16 x 6) the first and last convs cost as much as without the front end,
      // the body 1/u² as much: 0.29 (x1, u 2), 0.12 (x1, u 4), 0.35 (x2, u 2) of the MACs.
      const macsOf = (u: 1 | 2 | 4) => {
        const d = buildStudent({ arch: 'compact', scale, unshuffle: u });
        const n = describeModel(d, { inputSize: [64, 64] }).macs;
        d.dispose();
        return n;
      };
      expect(macsOf(unshuffle) / macsOf(1)).toBeLessThan(unshuffle === 2 ? 0.4 : 0.15);
      expect(getModelInfo(m).options).toMatchObject({ unshuffle });
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('rejects unshuffle on other architectures and values other than 1, 2, 4', () => {
    expect(() => buildStudent({ arch: 'espcn', scale: 2, unshuffle: 2 })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'compact', scale: 2, unshuffle: 3 as never })).toThrow(ConfigError);
    expect(getModelInfo(buildStudent({ arch: 'compact', scale: 2, width: 4, depth: 1, unshuffle: 1 })).options.unshuffle).toBeUndefined();
  });
});

describe("compact with detail: 'luma'", () => {
  for (const interp of ['nearest', 'bilinear'] as const) {
    it(`adds one correction to all three channels of the ${interp}-upsampled input (pure luma change), trains on wasm`, () => {
      const m = buildStudent({ arch: 'compact', scale: 4, width: 6, depth: 2, detail: 'luma', residualInterpolation: interp, seed: 3 });
      expect(m.getLayer('subpixel_conv').getWeights()[0].shape).toEqual([3, 3, 6, 16]);
      expect(getModelInfo(m).options).toMatchObject({ detail: 'luma', residualInterpolation: interp });
      const x = tf.randomUniform([2, 5, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const d = tf.tidy(() => tf.sub(m.predict(x) as tf.Tensor, upsampleInput(x, 4, interp)).arraySync() as number[][][][]);
      let spread = 0;
      let size = 0;
      for (const row of d[1]) for (const [r, g, b] of row) {
        spread = Math.max(spread, Math.abs(r - g), Math.abs(g - b));
        size = Math.max(size, Math.abs(r));
      }
      expect(spread).toBeLessThan(1e-6);
      expect(size).toBeGreaterThan(1e-4);
      const y = tf.randomUniform([2, 20, 28, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const [before, after] = trainStep(m, x, y);
      expect(after).toBeLessThan(before);
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('costs a third in the last conv: 16x8 luma has the MACs of 16x6 rgb at x4; rejects bad values', () => {
    const macs = (o: StudentOptions) => {
      const m = buildStudent({ arch: 'compact', scale: 4, ...o });
      const r = describeModel(m, { inputSize: [180, 320] });
      m.dispose();
      return r;
    };
    const rgb = macs({});
    const luma = macs({ depth: 8, detail: 'luma' });
    expect(Math.abs(luma.macs / rgb.macs - 1)).toBeLessThan(0.01);
    expect(luma.params).toBeLessThan(22_000);
    expect(macs({ detail: 'luma' }).macs / rgb.macs).toBeLessThan(0.8);
    expect(() => buildStudent({ arch: 'compact', detail: 'ycbcr' as never })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'espcn', detail: 'luma' })).toThrow(ConfigError);
    expect(getModelInfo(buildStudent({ arch: 'compact', width: 4, depth: 1 })).options.detail).toBeUndefined();
  });
});

describe("compact with preluSlopes: 'layer'", () => {
  it('learns one PReLU slope per layer, trains on wasm, and keeps it through reparameterize', async () => {
    const { reparameterize } = await import('../src/models/layers/rep-conv');
    const m = buildStudent({ arch: 'compact', scale: 2, width: 8, depth: 2, detail: 'luma', residualInterpolation: 'bilinear', reparam: true, preluSlopes: 'layer', seed: 3 });
    const slopes = (model: tfl.LayersModel) => model.layers.filter((l) => l.getClassName() === 'PReLU').map((l) => l.getWeights()[0].shape);
    expect(slopes(m)).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1]]);
    expect(getModelInfo(m).options).toMatchObject({ preluSlopes: 'layer' });
    const x = tf.randomUniform([2, 6, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 12, 10, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const alpha = () => m.getLayer('body1_prelu').getWeights()[0].dataSync()[0];
    const [before, after] = trainStep(m, x, y);
    expect(after).toBeLessThan(before);
    expect(alpha()).not.toBe(0.25); // the slope learns
    const plain = await reparameterize(m);
    expect(slopes(plain)).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1]]);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor))).dataSync()[0]);
    expect(d).toBeLessThan(1e-5);
    expect(() => buildStudent({ arch: 'compact', preluSlopes: 'pixel' as never })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'espcn', preluSlopes: 'layer' })).toThrow(ConfigError);
    expect(getModelInfo(buildStudent({ arch: 'compact', width: 4, depth: 1 })).options.preluSlopes).toBeUndefined();
    tf.dispose([x, y]);
    m.dispose();
    plain.dispose();
  });
});

describe('compact with globalGates', () => {
  it('gates the second half of the body by image-wide means: identity at the start, learns, survives reparameterize and a save / load', async () => {
    const { reparameterize } = await import('../src/models/layers/rep-conv');
    const opts: StudentOptions = { arch: 'compact', scale: 1, width: 8, depth: 4, unshuffle: 4, detail: 'luma', reparam: true, seed: 3 };
    const m = buildStudent({ ...opts, globalGates: true });
    const gates = m.layers.filter((l) => l.getClassName() === 'GlobalGate').map((l) => l.name);
    expect(gates).toEqual(['body2_gate', 'body3_gate', 'body4_gate']);
    expect(getModelInfo(m).options).toMatchObject({ globalGates: true });
    const x = tf.randomUniform([2, 16, 12, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 16, 12, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    // Zero-initialised gates are 1: the same outputs as the ungated net with the same seed.
    const ungated = buildStudent(opts);
    const d0 = tf.tidy(() => tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, ungated.predict(x) as tf.Tensor))).dataSync()[0]);
    expect(d0).toBeLessThan(1e-6);
    const kernel = () => m.getLayer('body3_gate').getWeights()[0].dataSync();
    const [before, after] = trainStep(m, x, y);
    expect(after).toBeLessThan(before);
    expect(Math.max(...kernel().map(Math.abs))).toBeGreaterThan(0); // the gates learn
    // Each image's gates come from that image alone: the batch of two gives what each gives by itself.
    const one = tf.tidy(() => (m.predict(tf.slice(x, [1, 0, 0, 0], [1, 16, 12, 3])) as tf.Tensor).dataSync());
    const both = tf.tidy(() => tf.slice(m.predict(x) as tf.Tensor, [1, 0, 0, 0], [1, 16, 12, 3]).dataSync());
    expect(Math.max(...one.map((v, i) => Math.abs(v - both[i])))).toBeLessThan(1e-5);
    const plain = await reparameterize(m);
    const saved = await new Promise<tf.io.ModelArtifacts>((resolve) => void plain.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }))));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved));
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0]);
    expect(d).toBeLessThan(1e-5);
    expect(() => buildStudent({ arch: 'espcn', globalGates: true })).toThrow(ConfigError);
    expect(() => buildStudent({ arch: 'compact', globalGates: 'yes' as never })).toThrow(ConfigError);
    tf.dispose([x, y]);
    for (const model of [m, ungated, plain, loaded]) model.dispose();
  });
});

describe('teacher', () => {
  for (const scale of [1, 2, 3, 4] as const) {
    it(`tiny ResNet U-Net x${scale}: any input size, gradients, optimiser step on wasm`, () => {
      const m = buildTeacher({ scale, depths: [1, 1, 1], widthMultiplier: 1 / 16, seed: 3 });
      // 13 x 10 is not a multiple of 4: the model pads and crops internally.
      const x = tf.randomUniform([1, 13, 10, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const y = tf.randomUniform([1, 13 * scale, 10 * scale, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const out = m.predict(x) as tf.Tensor;
      expect(out.shape).toEqual([1, 13 * scale, 10 * scale, 3]);
      out.dispose();
      const [before, after, gmax] = trainStep(m, x, y);
      expect(gmax).toBeGreaterThan(0);
      expect(after).toBeLessThan(before);
      expect(getModelInfo(m)).toMatchObject({ arch: 'resnet-unet', scale, role: 'teacher' });
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('batch-norm variant builds and trains', () => {
    const m = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, norm: 'batch', seed: 1 });
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const y = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [before, after] = trainStep(m, x, y);
    expect(after).toBeLessThan(before);
    expect(m.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(true);
    tf.dispose([x, y]);
    m.dispose();
  });

  it("activation 'prelu': stem and decoder use PReLU, so a decoder level pushed below zero still passes gradient", () => {
    const gradOfDec1 = (activation: 'relu' | 'prelu') => {
      const m = buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, activation, seed: 1 });
      // All of dec1_conv2's pre-activations negative: the state of the dead ×2 teacher's last decoder level.
      const [kernel2, bias2] = m.getLayer('dec1_conv2').getWeights();
      const negative = tf.fill(bias2.shape, -100);
      m.getLayer('dec1_conv2').setWeights([kernel2, negative]);
      negative.dispose();
      const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const y = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const kernel = (m.getLayer('dec1_conv1').trainableWeights[0] as unknown as { val: tf.Variable }).val;
      const g = tf.variableGrads(() => tf.mean(tf.abs(tf.sub(m.apply(x, { training: true }) as tf.Tensor, y))) as tf.Scalar, [kernel]);
      const gmax = tf.tidy(() => tf.max(tf.abs(Object.values(g.grads)[0])).dataSync()[0]);
      const names = m.layers.map((l) => l.name);
      tf.dispose([x, y, g.value, ...Object.values(g.grads)]);
      m.dispose();
      return { gmax, names };
    };
    const dead = gradOfDec1('relu');
    const alive = gradOfDec1('prelu');
    expect(dead.gmax).toBe(0);
    expect(alive.gmax).toBeGreaterThan(0);
    expect(alive.names).toEqual(expect.arrayContaining(['stem_prelu', 'dec1_conv1_prelu', 'dec1_conv2_prelu']));
    expect(alive.names).toContain('stage1_block1_conv1_relu'); // bottlenecks keep ReLU
    expect(dead.names).toContain('dec1_conv2_relu');
  });

  it('default ResNet-50 stage layout: [3,4,6,3] bottlenecks, widths 256..2048', () => {
    const m = buildTeacher({ scale: 4 });
    const blocks = m.layers.filter((l) => /^stage\d_block\d+_add$/.test(l.name)).map((l) => l.name);
    expect(blocks.filter((n) => n.startsWith('stage1')).length).toBe(3);
    expect(blocks.filter((n) => n.startsWith('stage2')).length).toBe(4);
    expect(blocks.filter((n) => n.startsWith('stage3')).length).toBe(6);
    expect(blocks.filter((n) => n.startsWith('stage4')).length).toBe(3);
    expect(m.getLayer('enc4').outputShape).toEqual([null, null, null, 2048]);
    expect(m.getLayer('enc1').outputShape).toEqual([null, null, null, 256]);
    const d = describeModel(m, { inputSize: [48, 48] });
    expect(d.outputShape).toEqual([1, 192, 192, 3]);
    expect(d.params).toBeGreaterThan(23e6); // ResNet-50 trunk alone is ~23.5M
    m.dispose();
  });

  it('rejects bad options', () => {
    expect(() => buildTeacher({ depths: [] })).toThrow(ConfigError);
    expect(() => buildTeacher({ widthMultiplier: 0 })).toThrow(ConfigError);
    expect(() => buildTeacher({ norm: 'group' as never })).toThrow(ConfigError);
    expect(() => buildTeacher({ activation: 'gelu' as never })).toThrow(ConfigError);
  });
});

describe('feature taps', () => {
  it('tapModel returns [output, ...features] sharing weights', () => {
    const m = buildStudent({ arch: 'espcn', scale: 2, ...TINY.espcn, seed: 2 });
    expect(featureTaps(m)).toEqual(['feat1', 'feat2']);
    const t = tapModel(m);
    const x = tf.randomUniform([1, 5, 5, 3], 0, 1, 'float32', 1);
    const [out, f1, f2] = t.predict(x) as tf.Tensor[];
    const ref = m.predict(x) as tf.Tensor;
    expect(f1.shape).toEqual([1, 5, 5, 8]);
    expect(f2.shape).toEqual([1, 5, 5, 4]);
    expect(tf.max(tf.abs(tf.sub(out, ref))).dataSync()[0]).toBe(0);
    expect(t.trainableWeights.length).toBe(m.trainableWeights.length);
    expect(t.trainableWeights[0]).toBe(m.trainableWeights[0]);
    expect(getModelInfo(t).arch).toBe('espcn');
    tf.dispose([x, out, f1, f2, ref]);
    expect(() => tapModel(m, ['nope'])).toThrow(ConfigError);
    m.dispose();
  });

  it('default taps exist in every architecture', () => {
    const models = [
      buildStudent({ arch: 'fsrcnn', scale: 2, ...TINY.fsrcnn }),
      buildStudent({ arch: 'compact', scale: 4, ...TINY.compact }),
      buildTeacher({ scale: 2, depths: [1, 1, 1], widthMultiplier: 1 / 16 }),
    ];
    for (const m of models) {
      const taps = featureTaps(m);
      expect(taps.length).toBeGreaterThan(0);
      const t = tapModel(m);
      expect(t.outputs.length).toBe(taps.length + 1);
      m.dispose();
    }
    expect(featureTaps(models[2])).toEqual(['enc1', 'enc2', 'enc3', 'dec2', 'dec1']);
  });
});
