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
import { ConfigError, InputError, IoError, ModelError } from '../src/errors';
import { Student } from '../src/infer/student';
import { loadInput } from '../src/infer/inputs';
import { saveModel } from '../src/io/model-io';
import { loadPretrainedTeacher } from '../src/models/pretrained-teachers';
import { buildStudent } from '../src/models/student';
import { browserPlatform } from '../src/platform/browser';
import { currentPlatform, setPlatform } from '../src/platform/current';
import { nodePlatform } from '../src/platform/node';
import type { Platform } from '../src/platform/platform';

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
