// Run configs (`sharpen-kd train|distill --config run.json`): the schema's checks, path resolution, and that a config
// runs the same plan as the equivalent flags, with the command line taking precedence.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { loadRunConfig } from '../src/cli/run-config';
import { addTrainingOptions, trainOptionsFromCli, type TrainCliOptions } from '../src/cli/train';
import { ConfigError } from '../src/errors';
import { imageFolder, runCli, trainingProgram, type CapturedOutput } from './training-cli';

let dir: string;
const io: CapturedOutput = { stdout: '', stderr: '' };
/** Runs the CLI in-process; returns the exit code (commander's own errors included). */
const cli = (args: string[]) => runCli(args, io, { commanderExitCode: true });

/** The library options `train` would run with (less the signal and progress callback), and the flags they came from, without running it. */
async function resolved(args: string[]): Promise<{ cli: TrainCliOptions; options: Omit<ReturnType<typeof trainOptionsFromCli>, 'signal' | 'onProgress'> }> {
  let got: TrainCliOptions | undefined;
  const cmd = addTrainingOptions(new Command('train').exitOverride()).action((o: TrainCliOptions) => {
    got = o;
  });
  await cmd.parseAsync(args, { from: 'user' });
  const o = got!;
  const { signal: _s, onProgress: _p, ...options } = trainOptionsFromCli(o, { pixel: o.lossPixel, ssim: o.lossSsim, pixelKind: o.pixelLoss }, new AbortController().signal, () => {});
  return { cli: o, options };
}

async function writeConfig(rel: string, config: object): Promise<string> {
  const file = path.join(dir, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

const trainCmd = () => trainingProgram().commands.find((c) => c.name() === 'train')!;
const distillCmd = () => trainingProgram().commands.find((c) => c.name() === 'distill')!;

beforeAll(async () => {
  await useBackend('wasm');
  dir = await imageFolder('skd-config-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('loadRunConfig', () => {
  it('names an unknown key (and the key it probably meant), at any depth', async () => {
    const top = await writeConfig('typo-top.json', { scale: 2, sede: 1 });
    expect(() => loadRunConfig(top, trainCmd())).toThrow(ConfigError);
    expect(() => loadRunConfig(top, trainCmd())).toThrow(/unknown key "sede" \(did you mean "seed"\?\)/);
    const nested = await writeConfig('typo-nested.json', { schedule: { steps: 10, minlr: 1e-5 } });
    expect(() => loadRunConfig(nested, trainCmd())).toThrow(/unknown key "schedule.minlr" \(did you mean "schedule.minLr"\?\)/);
    const group = await writeConfig('typo-group.json', { schedul: { steps: 10 } });
    expect(() => loadRunConfig(group, trainCmd())).toThrow(/unknown key "schedul"/);
    const notObject = await writeConfig('group-value.json', { model: 'compact' });
    expect(() => loadRunConfig(notObject, trainCmd())).toThrow(/"model" must be an object/);
  });

  it('checks types and values with the flags\' own parsers', async () => {
    const cases: [object, RegExp][] = [
      [{ schedule: { steps: '100' } }, /"schedule.steps" must be a number, got "100"/],
      [{ model: { unshuffle: 3 } }, /"model.unshuffle": --unshuffle takes 1, 2 or 4, got "3"/],
      [{ model: { detail: 'chroma' } }, /--detail takes rgb or luma/],
      [{ model: { reparam: 'yes' } }, /"model.reparam" must be true or false/],
      [{ data: { folders: 'imgs' } }, /"data.folders" must be a list of paths/],
      [{ data: { degradation: { blur: [1] } } }, /"data.degradation.blur" must be "off", \[min, max\]/],
      [{ teacher: { model: 'resnet' } }, /"teacher.model" is a sharpen-kd distill setting/],
    ];
    for (const [config, message] of cases) {
      const file = await writeConfig('bad.json', config);
      expect(() => loadRunConfig(file, trainCmd()), JSON.stringify(config)).toThrow(message);
    }
    await fs.writeFile(path.join(dir, 'broken.json'), '{ "scale": 2, }');
    expect(() => loadRunConfig(path.join(dir, 'broken.json'), trainCmd())).toThrow(/is not valid JSON/);
    expect(() => loadRunConfig(path.join(dir, 'absent.json'), trainCmd())).toThrow(/cannot read the run config/);
    // Degradations in every accepted form become the flag's value.
    const deg = await writeConfig('deg.json', { data: { degradation: { blur: [0.3, 1.5, 0.7], noise: { range: [0.5, 4], prob: 0.3 }, jpeg: 'off', motionBlur: false } } });
    expect(loadRunConfig(deg, trainCmd()).values).toEqual({
      blur: { range: [0.3, 1.5], prob: 0.7 },
      noise: { range: [0.5, 4], prob: 0.3 },
      jpeg: false,
      motionBlur: false,
    });
  });

  it('resolves paths relative to the config file, and $VARIABLES from the environment or the config\'s defaults', async () => {
    const cwd = dir;
    const file = await writeConfig('lab/runs/a.json', {
      variables: { DATA: '../data', RUNS: '../checkpoints' },
      data: { folders: ['$DATA/T91', '${DATA}/BSDS200', 'local'] },
      validation: { folder: '/abs/Set5' },
      out: '$RUNS/a',
      resumeFrom: '../checkpoints/base',
      init: '$RUNS/base/model-last',
    });
    const rel = path.relative(cwd, file);
    const fromDefaults = loadRunConfig(rel, trainCmd(), { cwd, env: {} });
    expect(fromDefaults.values).toMatchObject({
      data: ['lab/data/T91', 'lab/data/BSDS200', 'lab/runs/local'],
      val: '/abs/Set5',
      out: 'lab/checkpoints/a',
      init: 'lab/checkpoints/base/model-last',
    });
    expect(fromDefaults.resumeFrom).toBe('lab/checkpoints/base');
    // The environment wins over the defaults; its relative values are relative to the working directory.
    const fromEnv = loadRunConfig(rel, trainCmd(), { cwd, env: { DATA: 'shared/data', RUNS: '/runs' } });
    expect(fromEnv.values).toMatchObject({ data: ['shared/data/T91', 'shared/data/BSDS200', 'lab/runs/local'], out: '/runs/a' });
    // No default and not set: the error names the variable and the key.
    const unset = await writeConfig('unset.json', { out: '$SHARPEN_KD_NOWHERE/a' });
    expect(() => loadRunConfig(unset, trainCmd(), { cwd, env: {} })).toThrow(/out: \$SHARPEN_KD_NOWHERE is not set/);
    const middle = await writeConfig('middle.json', { out: 'runs/$NAME' });
    expect(() => loadRunConfig(middle, trainCmd(), { cwd, env: { NAME: 'x' } })).toThrow(/a variable can only start a path/);
    // A teacher is a pretrained name, a shipped student's name or a path.
    const t = await writeConfig('t/kd.json', { teacher: { model: 'emt-x4', weights: '$W' } });
    expect(loadRunConfig(t, distillCmd(), { cwd, env: { W: 'teachers' } }).values).toEqual({ teacher: 'emt-x4', teacherWeights: 'teachers' });
    const ta = await writeConfig('t/kd-ta.json', { teacher: { model: 'x4-plus' } });
    expect(loadRunConfig(ta, distillCmd(), { cwd }).values).toEqual({ teacher: 'x4-plus' });
    const tp = await writeConfig('t/kd2.json', { teacher: { model: '../runs/teacher/model-best' } });
    expect(loadRunConfig(tp, distillCmd(), { cwd }).values).toEqual({ teacher: 'runs/teacher/model-best' });
  });
});

describe('sharpen-kd train|distill --config', () => {
  const flags = (imgs: string, out: string) => [
    '--scale', '2', '--arch', 'espcn', '--width', '8', '--patch', '12', '--batch', '2', '--steps', '6', '--lr', '5e-4', '--warmup', '1',
    '--min-lr', '1e-6', '--clip', '1', '--ema', '0.9', '--pixel-loss', 'mse', '--loss-ssim', '0.5', '--blur', '0.3,1.5,0.7', '--jpeg', 'off',
    '-d', imgs, '--val', imgs, '--val-every', '2', '--val-images', '2', '--checkpoint-every', '3', '--log-every', '1', '--seed', '3', '--out', out,
  ];
  const config = (imgs: string, out: string) => ({
    description: 'the same run as flags()',
    scale: 2,
    model: { arch: 'espcn', width: 8 },
    data: { folders: [imgs], patch: 12, batch: 2, degradation: { blur: [0.3, 1.5, 0.7], jpeg: 'off' } },
    schedule: { steps: 6, lr: 5e-4, warmup: 1, minLr: 1e-6, clip: 1, ema: 0.9 },
    loss: { pixelKind: 'mse', ssim: 0.5 },
    validation: { folder: imgs, every: 2, images: 2 },
    checkpoint: { every: 3, logEvery: 1 },
    seed: 3,
    out,
  });

  it('a config and the equivalent flags give the same options and the same dry-run plan', async () => {
    const imgs = path.join(dir, 'imgs');
    const out = path.join(dir, 'same-run');
    // The config sits in a subfolder and names the images relative to itself.
    const file = await writeConfig('configs/same.json', config('../imgs', '../same-run'));
    const a = await resolved([...flags(imgs, out), '--resume']);
    const b = await resolved(['--config', file]);
    expect(b.options).toEqual(a.options);
    // The config's sections are the option groups of train / distill, key for key (paths resolved).
    const c = config(imgs, out);
    expect(b.options.schedule).toMatchObject(c.schedule);
    expect(b.options.loss).toMatchObject(c.loss);
    expect(b.options.validation).toEqual(c.validation);
    expect(b.options.checkpoint).toMatchObject(c.checkpoint);
    expect(b.options).toMatchObject({ seed: c.seed, out: c.out });
    io.stdout = '';
    expect(await cli(['train', ...flags(imgs, out), '--resume', '--dry-run'])).toBe(0);
    const fromFlags = io.stdout;
    io.stdout = '';
    expect(await cli(['train', '--config', file, '--dry-run'])).toBe(0);
    expect(io.stdout).toBe(fromFlags);
    expect(io.stdout).toMatch(/^dry run: would train steps 1\.\.6/m);
    expect(io.stdout).toMatch(/^validation: 2 images$/m);
  });

  it('flags on the command line override the config; unset flags at their defaults take its values', async () => {
    const imgs = path.join(dir, 'imgs');
    const file = await writeConfig('override.json', config(imgs, path.join(dir, 'override-run')));
    const other = path.join(dir, 'other');
    const { cli: o } = await resolved(['--config', file, '--steps', '9', '--lr', '1e-3', '-d', other, '--out', other, '--batch', '16']);
    expect(o).toMatchObject({ steps: 9, lr: 1e-3, data: [other], out: other, batch: 16 }); // the command line (batch 16 is also the default)
    expect(o).toMatchObject({ arch: 'espcn', width: 8, patch: 12, seed: 3, valEvery: 2, pixelLoss: 'mse', clip: 1, ema: 0.9 }); // the config
    expect(o.resume).toBe(true);
    const { cli: r } = await resolved(['--config', file, '--resume', path.join(dir, 'elsewhere')]);
    expect(r.resume).toBe(path.join(dir, 'elsewhere'));
  });

  it('resumeFrom starts a fresh run from another run\'s checkpoint, then the run continues its own', async () => {
    const imgs = path.join(dir, 'imgs');
    const base = path.join(dir, 'base-run');
    expect(await cli(['train', ...flags(imgs, base), '--steps', '2'])).toBe(0);
    const file = await writeConfig('next.json', { ...config('imgs', 'next-run'), resumeFrom: 'base-run' });
    io.stdout = '';
    expect(await cli(['train', '--config', file, '--dry-run'])).toBe(0);
    expect(io.stdout).toContain(`resume: ${path.join(base, 'last.ckpt')}`);
    expect(io.stdout).toMatch(/would train steps 3\.\.6/);
    expect(await cli(['train', '--config', file, '--steps', '4'])).toBe(0);
    io.stdout = '';
    expect(await cli(['train', '--config', file, '--dry-run'])).toBe(0);
    expect(io.stdout).toContain(`resume: ${path.join(dir, 'next-run', 'last.ckpt')}`);
    expect(io.stdout).toMatch(/would train steps 5\.\.6/);
    // A missing start point is a configuration error that says what to do.
    const orphan = await writeConfig('orphan.json', { ...config('imgs', 'orphan-run'), resumeFrom: 'no-such-run' });
    io.stderr = '';
    expect(await cli(['train', '--config', orphan, '--dry-run'])).toBe(2);
    expect(io.stderr).toMatch(/resumeFrom: .*no-such-run does not exist \(train the run it continues first\)/);
  });

  it('reports config errors in one line with exit code 2, and still requires --scale and --out', async () => {
    const file = await writeConfig('cli-typo.json', { scale: 2, out: 'x', model: { widht: 8 } });
    io.stderr = '';
    expect(await cli(['train', '--config', file, '--dry-run'])).toBe(2);
    expect(io.stderr).toMatch(/unknown key "model.widht" \(did you mean "model.width"\?\)/);
    const noOut = await writeConfig('no-out.json', { scale: 2 });
    io.stderr = '';
    expect(await cli(['train', '--config', noOut, '--dry-run'])).toBe(1);
    expect(io.stderr).toMatch(/required option '-o, --out <dir>' not specified \(on the command line or in /);
    io.stderr = '';
    expect(await cli(['train', '--config', noOut, '-o', path.join(dir, 'cli-out'), '--steps', '1', '--dry-run'])).toBe(0);
    expect(await cli(['train', '--out', 'x'])).toBe(1);
    expect(io.stderr).toMatch(/required option '-s, --scale <n>' not specified$/m);
  });

  it('distill reads the teacher section; a train-only key is an error', async () => {
    const imgs = path.join(dir, 'imgs');
    const out = path.join(dir, 'kd-run');
    const file = await writeConfig('kd.json', { ...config(imgs, out), teacher: { model: 'resnet', runtime: 'tfjs', ensemble: 2 }, loss: { pixel: 1, output: 0.5, outputKind: 'mse' } });
    expect(loadRunConfig(file, distillCmd()).values).toMatchObject({ lossOutput: 0.5, outputLoss: 'mse' });
    io.stdout = '';
    expect(await cli(['distill', ...flags(imgs, out), '--pixel-loss', 'l1', '--loss-ssim', '0', '--teacher', 'resnet', '--teacher-runtime', 'tfjs', '--teacher-ensemble', '2', '--loss-output', '0.5', '--output-loss', 'mse', '--resume', '--dry-run'])).toBe(0);
    const fromFlags = io.stdout;
    io.stdout = '';
    expect(await cli(['distill', '--config', file, '--dry-run'])).toBe(0);
    expect(io.stdout).toBe(fromFlags);
    const bad = await writeConfig('kd-bad.json', { model: { widthMult: 0.25 } });
    io.stderr = '';
    expect(await cli(['distill', '--config', bad, '--dry-run'])).toBe(2);
    expect(io.stderr).toMatch(/"model.widthMult" is a sharpen-kd train setting/);
  });
});
