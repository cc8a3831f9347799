/**
 * The training recipes in examples/recipes/ stay runnable: each is dry-run (`--dry-run`: data folders, model,
 * the committed checkpoint it resumes from, the validation set; nothing is trained or written) against the real
 * benchmark sets. Skipped when they are not on this machine ($SHARPEN_KD_DATA, default ../shared/data).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(ROOT, process.env.SHARPEN_KD_DATA ?? '../shared/data');
const SETS = ['T91', 'BSDS200', 'Kodak24', 'McMaster', 'Set5'];
const hasData = SETS.every((s) => existsSync(path.join(DATA, s, 'HR')));

function recipe(args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync('bash', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SHARPEN_KD_DATA: DATA, ...env }, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!hasData)('training recipes (dry runs against the committed checkpoints)', () => {
  it.each([4, 2, 1])('reproduce.sh %i: every stage of the shipped model checks out', (scale) => {
    const { code, out } = recipe(['examples/recipes/reproduce.sh', String(scale), '--dry-run']);
    expect(code, out).toBe(0);
    const stages = out.split('\n').filter((l) => l.startsWith('== ')).length;
    expect(stages).toBe({ 4: 1, 2: 1, 1: 1 }[scale]);
    expect(out.match(/^dry run: (would train|nothing to do)/gm)?.length).toBe(stages);
    expect(out).toContain(`would ship checkpoints/student-x${scale}-`);
    expect(out).not.toMatch(/^done: step/m); // nothing trained
  });

  it.each([
    ['distill.sh', '4', '8000'],
    ['distill.sh', '2', '6000'],
    ['distill-feature.sh', '4', '8000'],
    ['distill-feature.sh', '2', '6000'],
    ['student-grow.sh', '2', '5000'],
    ['student-grow.sh', '4', '5000'],
    ['student-luma.sh', '4', '24000'],
    ['teacher.sh', '4'],
    ['teacher.sh', '2'],
  ])('%s %s', (...args) => {
    const { code, out } = recipe([`examples/recipes/${args[0]}`, ...args.slice(1), '--dry-run']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/^dry run: (would train|nothing to do)/m);
    expect(out).toMatch(/^validation: 5 images$/m);
  });

  it('student-finetune.sh VARIANT=luma continues the luma run with its architecture', () => {
    const { code, out } = recipe(['examples/recipes/student-finetune.sh', '4', '2000', '--dry-run'], { VARIANT: 'luma' });
    expect(code, out).toBe(0);
    expect(out).toMatch(/^resume: checkpoints\/student-x4-luma16x8\/last\.ckpt$/m);
    expect(out).toMatch(/^dry run: would train/m);
  });

  it('a recipe with a bad argument fails loudly', () => {
    expect(recipe(['examples/recipes/reproduce.sh', '3', '--dry-run']).code).toBe(2);
    expect(recipe(['examples/recipes/distill.sh', '1', '100', '--dry-run']).code).toBe(2);
  });
});
