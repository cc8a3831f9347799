/**
 * The platform seam: Node picks the Node platform by default, and with `setPlatform(browserPlatform)` the library
 * behaves as in a browser even under Node: `'auto'` runs on TF.js, relative paths are URLs (fetched, and refused where
 * a file would be read or written), environment variables are not read. Each case is checked against the Node
 * platform too, so that a seam the code ignores fails here.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveSpinning } from '../src/backends/onnx-runner';
import { BackendError, ConfigError, InputError, IoError, ModelError } from '../src/errors';
import { Student, type StudentLoadOptions } from '../src/infer/student';
import { loadInput } from '../src/infer/inputs';
import { saveModel } from '../src/io/model-io';
import { loadPretrainedTeacher } from '../src/models/pretrained-teachers';
import { buildStudent } from '../src/models/student';
import { browserPlatform } from '../src/platform/browser';
import { currentPlatform, setPlatform } from '../src/platform/current';
import { nodePlatform } from '../src/platform/node';
import type { Platform } from '../src/platform/platform';
import { provideOnnxRuntime } from '../src/platform/provided';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `fn` with `platform` in use, then puts back the one before. */
async function withPlatform<T>(platform: Platform, fn: () => Promise<T>): Promise<T> {
  const before = setPlatform(platform);
  try {
    return await fn();
  } finally {
    setPlatform(before);
  }
}

afterEach(() => {
  expect(currentPlatform(), 'a test left another platform in use').toBe(nodePlatform);
});

describe('platform', () => {
  it('Node is detected once; setPlatform returns the platform before it and undefined goes back to the detected one', () => {
    expect(currentPlatform()).toBe(nodePlatform);
    expect(setPlatform(browserPlatform)).toBe(nodePlatform);
    expect(currentPlatform()).toBe(browserPlatform);
    expect(setPlatform(undefined)).toBe(browserPlatform);
    expect(currentPlatform()).toBe(nodePlatform);
  });

  it("'auto' runs on ONNX Runtime with the Node platform and on TF.js with the browser one", async () => {
    // onnxruntime-web is not installed here: the browser platform gets onnxruntime-node, so that only its choice
    // of engine, not a missing package, keeps 'auto' on TF.js.
    const browserWithOrt: Platform = { ...browserPlatform, onnxRuntime: 'onnxruntime-node', loadPackage: nodePlatform.loadPackage };
    const model = buildStudent({ arch: 'espcn', scale: 2, width: 4, seed: 1 });
    try {
      const onNode = await Student.fromModel(model, { backend: 'auto', borrowModel: true });
      const inBrowser = await withPlatform(browserWithOrt, () => Student.fromModel(model, { backend: 'auto', borrowModel: true }));
      try {
        expect([onNode.info.backend, inBrowser.info.backend]).toEqual(['onnx', 'cpu']);
      } finally {
        onNode.dispose();
        inBrowser.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it("with onnxruntime provided (provideOnnxRuntime), 'auto' tries it in browsers too, on the first execution provider that loads", async () => {
    // onnxruntime-node stands in for onnxruntime-web: it has the same API, but neither a 'wasm' nor a 'webgpu' provider.
    const ort = await nodePlatform.loadPackage('onnxruntime-node');
    const model = buildStudent({ arch: 'espcn', scale: 2, width: 4, seed: 1 });
    const load = (opts: StudentLoadOptions) => withPlatform(browserPlatform, () => Student.fromModel(model, { borrowModel: true, ...opts }));
    const loaded: Student[] = [];
    try {
      expect(browserPlatform.autoEngine).toBe('tfjs');
      expect(() => provideOnnxRuntime({ InferenceSession: {} })).toThrow(BackendError);
      provideOnnxRuntime(ort);
      expect(browserPlatform.autoEngine).toBe('onnx');
      expect(await browserPlatform.onnxProviders()).toEqual(['wasm']); // no navigator.gpu under Node
      // 'auto': the browser's provider ('wasm') does not load here, so TF.js runs the model.
      loaded.push(await load({ backend: 'auto' }));
      // The next provider in the list is tried when one fails, and the one in use is reported.
      loaded.push(await load({ backend: 'auto', executionProviders: ['wasm', 'cpu'] }));
      expect(loaded.map((s) => [s.info.backend, s.info.executionProvider])).toEqual([['cpu', undefined], ['onnx', 'cpu']]);
      const err = await load({ backend: 'onnx', executionProviders: ['webgpu', 'wasm'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect((err as Error).message).toMatch(/no ONNX Runtime execution provider could load the model \(webgpu: .*; wasm: /s);
      await expect(load({ backend: 'onnx', executionProviders: [] })).rejects.toThrow(ConfigError);
    } finally {
      provideOnnxRuntime(undefined);
      for (const s of loaded) s.dispose();
      model.dispose();
    }
    expect(browserPlatform.autoEngine).toBe('tfjs');
  });

  it("onnxruntime-web's wasm threads: the threads option, else the app's setting, else every core when cross-origin isolated, else 1", () => {
    const env = (numThreads?: number) => ({ env: { wasm: { numThreads } } });
    const isolated = Object.getOwnPropertyDescriptor(globalThis, 'crossOriginIsolated');
    const set = (v: boolean) => Object.defineProperty(globalThis, 'crossOriginIsolated', { value: v, configurable: true });
    try {
      const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
      const results: (number | undefined)[] = [];
      for (const [isol, preset, threads] of [[false, undefined, undefined], [true, undefined, undefined], [true, 3, undefined], [true, 3, 2]] as const) {
        set(isol);
        const ort = env(preset);
        browserPlatform.configureOnnxRuntime(ort, threads);
        results.push(ort.env.wasm.numThreads);
      }
      expect(results).toEqual([1, Math.max(1, cores), 3, 2]);
      const node = env();
      nodePlatform.configureOnnxRuntime(node, 2);
      expect(node.env.wasm.numThreads).toBeUndefined();
    } finally {
      if (isolated) Object.defineProperty(globalThis, 'crossOriginIsolated', isolated);
      else delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    }
  });

  it('a relative path is a file in Node and a URL to fetch in browsers', async () => {
    const missing = path.join('no-such-folder', 'photo.png');
    await expect(loadInput(missing)).rejects.toThrow(/cannot read file \(no such file\)/);
    const err = await withPlatform(browserPlatform, () => loadInput(missing).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/cannot fetch/);
  });

  it('without a file system, built-in models, package folders and saving need a URL or give the browser error', async () => {
    await withPlatform(browserPlatform, async () => {
      await expect(Student.load('x4')).rejects.toThrow(ModelError);
      await expect(Student.load('x4')).rejects.toThrow(/needs the URL its files are served from in browsers/);
      await expect(loadPretrainedTeacher('esrgan-slim', { scale: 4 })).rejects.toThrow(ConfigError);
      await expect(loadPretrainedTeacher('esrgan-slim', { scale: 4 })).rejects.toThrow(/in browsers pass baseUrl/);
      await expect(loadPretrainedTeacher('emt-x4')).rejects.toThrow(/in browsers pass weights/);
      const model = buildStudent({ arch: 'espcn', scale: 2, width: 4, seed: 1 });
      try {
        await expect(saveModel(model, 'out/x2')).rejects.toThrow(IoError);
      } finally {
        model.dispose();
      }
    });
  });

  it('paths join with node:path in Node and with / in browsers; a URL prefix joins with / on both', async () => {
    expect(await nodePlatform.joinPath('a/b/', '../c/model.json')).toBe(path.join('a', 'c', 'model.json'));
    expect(await browserPlatform.joinPath('a/b/', '../c/model.json')).toBe('a/b/../c/model.json');
    expect(await nodePlatform.joinPath('https://cdn.example/pkg/', 'models/x4/model.json')).toBe('https://cdn.example/pkg/models/x4/model.json');
  });

  it('environment variables count in Node only', async () => {
    const before = process.env.SHARPEN_KD_ORT_SPINNING;
    process.env.SHARPEN_KD_ORT_SPINNING = 'off';
    try {
      expect(resolveSpinning(undefined)).toBe(false);
      expect(await withPlatform(browserPlatform, async () => resolveSpinning(undefined))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.SHARPEN_KD_ORT_SPINNING;
      else process.env.SHARPEN_KD_ORT_SPINNING = before;
    }
  });
});
