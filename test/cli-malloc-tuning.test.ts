// The CLI's long commands run again with fixed glibc malloc thresholds (src/cli/malloc-tuning.ts).
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GLIBC_MALLOC_TUNABLES, wantsMallocTuning } from '../src/cli/malloc-tuning';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const glibc = typeof (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime === 'string';

describe('malloc tuning of the CLI', () => {
  it('is wanted on Linux with glibc only, and never over a GLIBC_TUNABLES already set or when turned off', () => {
    expect(wantsMallocTuning({}, 'linux', true)).toBe(true);
    expect(wantsMallocTuning({}, 'linux', false)).toBe(false);
    expect(wantsMallocTuning({}, 'darwin', true)).toBe(false);
    expect(wantsMallocTuning({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux', true)).toBe(false);
    expect(wantsMallocTuning({ SHARPEN_KD_MALLOC_TUNING: 'off' }, 'linux', true)).toBe(false);
  });

  it.skipIf(process.platform !== 'linux' || !glibc)('sharpen-kd bench runs with the thresholds unless told not to, and keeps a GLIBC_TUNABLES of its own', async () => {
    const bench = async (env: NodeJS.ProcessEnv) => {
      const { GLIBC_TUNABLES: _, SHARPEN_KD_MALLOC_TUNING: __, ...rest } = process.env;
      const r = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'bench', '-m', 'bicubic', '--size', '32x32', '--warmup', '0', '--runs', '1', '--backend', 'cpu', '--json'], {
        cwd: ROOT,
        env: { ...rest, ...env },
      });
      return (JSON.parse(r.stdout) as { glibcTunables: string | null }).glibcTunables;
    };
    expect(await bench({})).toBe(GLIBC_MALLOC_TUNABLES);
    expect(await bench({ SHARPEN_KD_MALLOC_TUNING: 'off' })).toBeNull();
    expect(await bench({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe('glibc.malloc.arena_max=2');
  }, 120_000);
});
