import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

// The examples and the browser demo, run against the built library (`npm run build` first):
// `npm run examples:test` and `npm run test:browser`. Strict: missing prerequisites fail instead of skipping.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    include: ['test/examples*.slow.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    env: { SHARPEN_KD_EXAMPLES_STRICT: '1' },
  },
});
