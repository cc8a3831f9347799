import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: the root entry and one subpath entry per concept (package.json "exports"), each ESM + CJS + types.
    // TF.js, sharp and every optional backend stay external.
    entry: {
      index: 'src/index.ts',
      train: 'src/entries/train.ts',
      models: 'src/entries/models.ts',
      data: 'src/entries/data.ts',
      metrics: 'src/entries/metrics.ts',
      onnx: 'src/entries/onnx.ts',
      wasm: 'src/entries/wasm.ts',
      // Not an entry of the package: the worker thread of openDatasetInWorker, loaded by path next to its chunks.
      'dataset-worker': 'src/data/dataset-worker.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'neutral',
    shims: true,
    // Shared chunks: code used by several entries exists once, so a class (SharpenError, a Keras layer) is the same
    // class whichever entry it is imported from, and custom layers register once.
    splitting: true,
    treeshake: true,
    external: [/^@tensorflow\//, 'sharp', /^onnxruntime-/, 'commander', /^node:/],
  },
  {
    // The CLI: one ESM file with a shebang.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    external: [/^@tensorflow\//, 'sharp', /^onnxruntime-/, 'commander'],
  },
]);
