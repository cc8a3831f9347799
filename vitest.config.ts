import { defineConfig } from 'vitest/config';

// Fast suite by default. The slow suite (`*.slow.test.ts`) runs with `npm run test:slow`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['**/*.slow.test.ts', 'node_modules/**', 'dist/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2 cores: run files in 2 workers at most.
    maxWorkers: 2,
  },
});
