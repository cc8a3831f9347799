/**
 * The lab's run configs (lab/runs/*.json) stay runnable: each is dry-run (`--dry-run`: data folders, model, the
 * committed checkpoint it resumes from, the validation set; nothing is trained or written) against the real benchmark
 * sets, and so are the shell chains that rebuild the shipped models (lab/reproduce.sh). Skipped when the sets are not
 * on this machine ($SHARPEN_KD_DATA, default ../shared/data).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { registerDistill } from '../src/cli/distill';
import { runConfigCommand } from '../src/cli/run-config';
import { registerTrain } from '../src/cli/train';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(ROOT, process.env.SHARPEN_KD_DATA ?? '../shared/data');
const SETS = ['T91', 'BSDS200', 'Kodak24', 'McMaster', 'Set5'];
const hasData = SETS.every((s) => existsSync(path.join(DATA, s, 'HR')));
const RUNS = path.join(ROOT, 'lab', 'runs');
const configs = readdirSync(RUNS).filter((f) => f.endsWith('.json')).sort();

function shell(args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync('bash', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SHARPEN_KD_DATA: DATA, ...env }, timeout: 180_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** `sharpen-kd <command> --config <file> --dry-run`, in this process (one backend start for all configs). */
async function dryRun(file: string): Promise<{ code: number; out: string }> {
  const program = new Command().exitOverride();
  registerTrain(program);
  registerDistill(program);
  let out = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  const cwd = process.cwd();
  process.exitCode = 0;
  try {
    process.chdir(ROOT);
    // --threads 1 overrides the teachers' 2: the backend is already up, and a dry run computes nothing.
    await program.parseAsync(['node', 'sharpen-kd', runConfigCommand(file), '--config', file, '--dry-run', '--threads', '1']);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    process.exitCode = e.exitCode;
  } finally {
    process.chdir(cwd);
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out };
}

describe('the lab stays beside the library', () => {
  it('src/ never imports lab/ (or scripts/), and the package never ships them', () => {
    const files = (readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[]).filter((f) => /\.[cm]?ts$/.test(f));
    const offending = files.filter((f) => /from ['"](\.\.\/)+(lab|scripts)\//.test(readFileSync(path.join(ROOT, 'src', f), 'utf8')));
    expect(offending).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.files.filter((f: string) => /^(lab|scripts|checkpoints)\b/.test(f))).toEqual([]);
  });
});

describe('lab run configs', () => {
  it.each(configs)('%s is named after its run folder and states what it is', (name) => {
    const json = JSON.parse(readFileSync(path.join(RUNS, name), 'utf8'));
    expect(path.basename(json.out)).toBe(name.replace(/\.json$/, ''));
    expect(json.description?.length).toBeGreaterThan(20);
  });
});

describe.skipIf(!hasData)('lab run configs and chains (dry runs against the committed checkpoints)', () => {
  beforeAll(async () => {
    process.env.SHARPEN_KD_DATA = DATA;
    await useBackend('wasm');
    // The screenshots domain is generated, not stored: make it when missing (a few seconds).
    if (!existsSync(path.join(ROOT, 'lab/data/screenshots/holdout/HR'))) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'lab/scripts/make-screenshots.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it.each(configs)('%s', async (name) => {
    const r = await dryRun(path.join('lab', 'runs', name));
    // A run that continues another one whose checkpoint is not committed (a finished run's optimizer state is not
    // kept) cannot be dry-run; the run it continues must then be a lab config of its own, so the chain reruns from nothing.
    const missing = /resumeFrom: (\S+) does not exist \(train the run it continues first\)/.exec(r.out);
    if (missing) {
      expect(r.code, r.out).toBe(2);
      const from = path.basename(missing[1]).replace(/\.ckpt$/, '') === 'last' ? path.basename(path.dirname(missing[1])) : path.basename(missing[1]);
      expect(configs, `${name} continues ${from}, which has no config`).toContain(`${from}.json`);
      return;
    }
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^dry run: (would train|nothing to do)/m);
    expect(r.out).toMatch(/^validation: \d+ images$/m);
    expect(r.out).toMatch(/^would write: \S+\/last\.ckpt/m);
  });

  it.each([
    ['4', 'x4', 'student-x4-', 2], // 24000 steps, then continued to 96000
    ['2', 'x2', 'student-x2-', 2], // 16000 steps, then continued to 48000
    ['1', 'x1', 'student-x1-', 1],
    ['x4-plus', 'x4-plus', 'student-x4-luma32x8-', 1],
    ['x2-fast', 'x2-fast', 'student-x2-fast-', 1],
  ])('reproduce.sh %s: every stage of the shipped model checks out', (arg, model, run, count) => {
    const { code, out } = shell(['lab/reproduce.sh', arg, '--dry-run']);
    expect(code, out).toBe(0);
    const stages = out.split('\n').filter((l) => l.startsWith('== ')).length;
    expect(stages).toBe(count);
    expect(out.match(/^dry run: (would train|nothing to do)/gm)?.length).toBe(stages);
    expect(out).toMatch(new RegExp(`^dry run: would ship \\S*${run}\\S+/model-last as models/${model}$`, 'm'));
    expect(out).not.toMatch(/^done: step/m); // nothing trained
  });

  it('a chain with a bad argument fails loudly', () => {
    expect(shell(['lab/reproduce.sh', '3', '--dry-run']).code).toBe(2);
    expect(shell(['lab/ship.sh', '3', 'x']).code).toBe(2);
    expect(shell(['lab/run.sh', 'lab/runs/no-such-run.json']).code).toBe(2);
  });
});
