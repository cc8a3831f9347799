import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM + CJS + types. TF.js, sharp and every optional backend stay external.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'neutral',
    shims: true,
    splitting: false,
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
