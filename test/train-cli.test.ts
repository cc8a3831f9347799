import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backends/use-backend';
import { pixelSpaceOf, type TrainCliOptions } from '../src/cli/train';
import { buildTeacher } from '../src/models/teacher';
import { saveModel } from '../src/io/model-io';
import { loadCheckpoint } from '../src/train/checkpoint';
import { learningRateAt } from '../src/train/schedule';
import { imageFolder, runCli, type CapturedOutput } from './training-cli';

let dir: string;
const io: CapturedOutput = { stdout: '', stderr: '' };
const cli = (args: string[]) => runCli(args, io);

beforeAll(async () => {
  await useBackend('wasm');
  dir = await imageFolder('skd-cli-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('sharpen-kd train / distill', () => {
  it('trains from a folder, validates, writes a run folder, and --resume continues it', async () => {
    const out = path.join(dir, 'run');
    const common = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--arch', 'espcn', '--width', '8', '--patch', '12', '--batch', '2', '--val', path.join(dir, 'imgs'), '--val-every', '2', '--out', out, '--seed', '3'];
    expect(await cli([...common, '--steps', '3'])).toBe(0);
    expect(io.stdout).toMatch(/done: step 3/);
    expect(io.stdout).toMatch(/best validation \(step 2|3\)/);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).step).toBe(3);
    expect(await cli([...common, '--steps', '5', '--resume'])).toBe(0);
    expect(io.stdout).toMatch(/done: step 5/);
    const log = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((r) => r.valPsnr !== undefined).map((r) => r.step)).toEqual([2, 3, 4, 5]);
    await fs.access(path.join(out, 'model-best', 'model.json'));
    // Continued into another folder (a new cycle or a fine-tune): that folder tracks its own best and gets a model-best.
    const next = path.join(dir, 'run-next');
    io.stdout = '';
    expect(await cli([...common.map((a) => (a === out ? next : a)), '--steps', '7', '--resume', out])).toBe(0);
    expect(io.stdout).toMatch(/best validation \(step [67]\)/);
    await fs.access(path.join(next, 'model-best', 'model.json'));
  });

  it('--resume of a finished run says so, prints no loss, takes no step and writes nothing but a missing model-last', async () => {
    const out = path.join(dir, 'finished');
    const imgs = path.join(dir, 'imgs');
    const common = ['train', '--data', imgs, '--scale', '2', '--arch', 'espcn', '--width', '8', '--patch', '12', '--batch', '2', '--val', imgs, '--val-every', '2', '--out', out, '--seed', '3'];
    expect(await cli([...common, '--steps', '2'])).toBe(0);
    const ckpt = await fs.readFile(path.join(out, 'last.ckpt'));
    const log = await fs.readFile(path.join(out, 'log.jsonl'), 'utf8');
    io.stdout = '';
    expect(await cli([...common, '--steps', '2', '--resume'])).toBe(0);
    const lines = io.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('already finished at step 2 of 2; nothing to do (raise --steps to train further)');
    expect(lines.slice(1).join('\n')).toMatch(/^best validation \(step 2\): Y-PSNR \d+\.\d\d dB/);
    expect(io.stdout).not.toMatch(/NaN|done:/);
    io.stdout = '';
    expect(await cli([...common, '--steps', '1', '--resume'])).toBe(0);
    expect(io.stdout).toMatch(/^already at step 2, past --steps 1; nothing to do \(raise --steps to train further\)$/m);
    expect(Buffer.compare(await fs.readFile(path.join(out, 'last.ckpt')), ckpt)).toBe(0);
    expect(await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).toBe(log);
    // A finished run folder without its model-last (committed without it) gets the very same model back.
    const modelLast = path.join(out, 'model-last');
    const weights = await fs.readFile(path.join(modelLast, 'weights.bin'));
    await fs.rm(modelLast, { recursive: true });
    io.stdout = '';
    expect(await cli([...common, '--steps', '2', '--resume'])).toBe(0);
    expect(io.stdout).toMatch(/model-last was missing: exported again from the last checkpoint to .*model-last/);
    expect(Buffer.compare(await fs.readFile(path.join(modelLast, 'weights.bin')), weights)).toBe(0);
    expect(Buffer.compare(await fs.readFile(path.join(out, 'last.ckpt')), ckpt)).toBe(0);
  });

  it('--dry-run checks a fresh run and a resume, prints the plan, writes nothing and takes no step', async () => {
    const out = path.join(dir, 'dry');
    const common = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--arch', 'espcn', '--width', '8', '--patch', '12', '--batch', '2', '--val', path.join(dir, 'imgs'), '--out', out, '--seed', '3', '--lr', '1e-3', '--warmup', '0'];
    io.stdout = '';
    expect(await cli([...common, '--steps', '4', '--dry-run'])).toBe(0);
    expect(io.stdout).toMatch(/dry run: would train steps 1\.\.4 \(4 steps\)/);
    expect(io.stdout).toMatch(/resume: none/);
    expect(io.stdout).toMatch(/validation: 3 images/);
    await expect(fs.access(out)).rejects.toThrow();
    // A real run to step 2, then dry runs of its continuation: the checkpoint is loaded (and checked) but left as it was.
    expect(await cli([...common, '--steps', '2'])).toBe(0);
    const before = await fs.readFile(path.join(out, 'last.ckpt'));
    const logBefore = await fs.readFile(path.join(out, 'log.jsonl'), 'utf8');
    io.stdout = '';
    expect(await cli([...common, '--steps', '4', '--resume', '--dry-run'])).toBe(0);
    expect(io.stdout).toMatch(/would train steps 3\.\.4 \(2 steps\)/);
    expect(io.stdout).toContain(`resume: ${path.join(out, 'last.ckpt')}`);
    io.stdout = '';
    expect(await cli([...common, '--steps', '6', '--resume', '--schedule-start', '2', '--dry-run'])).toBe(0);
    const lr = learningRateAt(3, { lr: 1e-3, steps: 6, start: 2 });
    expect(lr).toBeCloseTo(1e-5 + 0.5 * 0.99e-3 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(io.stdout).toContain(`would train steps 3..6 (4 steps), learning rate ${lr.toPrecision(3)} at the first`);
    io.stderr = '';
    expect(await cli([...common, '--steps', '6', '--resume', '--schedule-start', '3', '--dry-run'])).toBe(2);
    expect(io.stderr).toMatch(/schedule starts after step 3 but the run is at step 2/);
    io.stdout = '';
    expect(await cli([...common, '--steps', '2', '--resume', '--dry-run'])).toBe(0);
    expect(io.stdout).toMatch(/nothing to do, already at step 2 of 2/);
    expect(Buffer.compare(await fs.readFile(path.join(out, 'last.ckpt')), before)).toBe(0);
    expect(await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).toBe(logBefore);
    // A resume into another architecture fails the dry run as it would fail the real one (E_MODEL: exit code 1).
    io.stderr = '';
    expect(await cli([...common.map((a) => (a === '8' ? '6' : a)), '--steps', '4', '--resume', '--dry-run'])).toBe(1);
    expect(io.stderr).toMatch(/same architecture/);
  });

  it('trains the ResNet teacher with --teacher-activation prelu, and rejects an unknown activation', async () => {
    const out = path.join(dir, 'teacher-run');
    const args = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--arch', 'resnet', '--teacher-depths', '1,1', '--width-mult', '0.0625', '--patch', '8', '--batch', '2', '--steps', '2', '--out', out];
    expect(await cli([...args, '--teacher-activation', 'prelu'])).toBe(0);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
    const names: string[] = json.modelTopology.config.layers.map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(['stem_prelu', 'dec1_conv1_prelu', 'dec1_conv2_prelu']));
    await expect(cli([...args, '--teacher-activation', 'gelu'])).rejects.toThrow(/--teacher-activation takes relu or prelu/);
  });

  it('--unshuffle builds a compact student with the pixel-unshuffle front end, and rejects other factors', async () => {
    const out = path.join(dir, 'unshuffle-run');
    const args = ['train', '--data', path.join(dir, 'imgs'), '--scale', '1', '--width', '4', '--depth', '1', '--patch', '16', '--batch', '2', '--steps', '2', '--out', out];
    expect(await cli([...args, '--unshuffle', '4'])).toBe(0);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
    const classes: string[] = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    expect(classes).toEqual(expect.arrayContaining(['PadToMultiple', 'PixelUnshuffle', 'PixelShuffle', 'CropToScaledInput']));
    await expect(cli([...args, '--unshuffle', '3'])).rejects.toThrow(/--unshuffle takes 1, 2 or 4/);
  });

  it('--reparam trains re-parameterizable convs, resumes, and saves the plain compact net', async () => {
    const out = path.join(dir, 'reparam-run');
    const args = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--width', '4', '--depth', '1', '--patch', '12', '--batch', '2', '--out', out, '--reparam'];
    expect(await cli([...args, '--steps', '2'])).toBe(0);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).tensors.some((t) => t.name.includes('squeeze'))).toBe(true);
    expect(await cli([...args, '--steps', '3', '--resume'])).toBe(0);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
    const classes: string[] = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    expect(classes).toContain('Conv2D');
    expect(classes).not.toContain('RepConv2D');
  });

  it('--prelu-slopes layer (or model.preluSlopes in a run config) trains one PReLU slope per layer', async () => {
    const base = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--width', '4', '--depth', '1', '--patch', '12', '--batch', '2', '--steps', '1'];
    const slopes = async (out: string) => {
      const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
      const names = json.weightsManifest.flatMap((g: { weights: { name: string; shape: number[] }[] }) => g.weights).filter((w: { name: string }) => w.name.includes('prelu'));
      return { shapes: names.map((w: { shape: number[] }) => w.shape), options: json.userDefinedMetadata.sharpenKd.options };
    };
    const flagged = path.join(dir, 'slopes-flag');
    expect(await cli([...base, '--prelu-slopes', 'layer', '--out', flagged])).toBe(0);
    expect(await slopes(flagged)).toMatchObject({ shapes: [[1, 1, 1], [1, 1, 1]], options: { preluSlopes: 'layer' } });
    const config = path.join(dir, 'slopes.json');
    await fs.writeFile(config, JSON.stringify({ model: { preluSlopes: 'layer' } }));
    const configured = path.join(dir, 'slopes-config');
    expect(await cli([...base, '--config', config, '--out', configured])).toBe(0);
    expect((await slopes(configured)).shapes).toEqual([[1, 1, 1], [1, 1, 1]]);
    await expect(cli([...base, '--prelu-slopes', 'pixel', '--out', path.join(dir, 'slopes-bad')])).rejects.toThrow(/--prelu-slopes/);
  });

  it('--init starts a run from a saved compact student, grown to --width / --depth; a resume replaces it', async () => {
    const src = path.join(dir, 'init-src');
    const args = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--patch', '12', '--batch', '2', '--val', path.join(dir, 'imgs'), '--val-every', '1'];
    expect(await cli([...args, '--width', '4', '--depth', '1', '--steps', '2', '--out', src])).toBe(0);
    const srcPsnr = JSON.parse((await fs.readFile(path.join(src, 'log.jsonl'), 'utf8')).trim().split('\n').pop()!).valPsnr as number;
    const out = path.join(dir, 'init-run');
    io.stderr = '';
    io.stdout = '';
    // A negligible learning rate: the grown net keeps the source's function, so the first validation matches the source's.
    expect(await cli([...args, '--width', '6', '--depth', '2', '--steps', '1', '--lr', '1e-8', '--init', path.join(src, 'model-last'), '--out', out])).toBe(0);
    expect(io.stderr).toMatch(/starting from .*init-src.model-last \(4×1, grown to 6×2\)/);
    const first = JSON.parse((await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').pop()!);
    expect(first.valPsnr).toBeCloseTo(srcPsnr, 1);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.sharpenKd.options).toMatchObject({ width: 6, depth: 2, grownFrom: { width: 4, depth: 1 } });
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).meta.user).toMatchObject({ init: path.join(src, 'model-last') });
    // Resumed: the checkpoint's weights win, the run continues.
    expect(await cli([...args, '--width', '6', '--depth', '2', '--steps', '2', '--init', path.join(src, 'model-last'), '--out', out, '--resume'])).toBe(0);
    expect(io.stdout).toMatch(/done: step 2/);
    // Bad combinations are ConfigErrors (exit code 2) before any training.
    io.stderr = '';
    expect(await cli([...args, '--width', '2', '--steps', '1', '--init', path.join(src, 'model-last'), '--out', path.join(dir, 'init-bad')])).toBe(2);
    expect(io.stderr).toMatch(/cannot start a smaller 2×6 run/);
    expect(await cli([...args, '--width', '6', '--steps', '1', '--reparam', '--init', path.join(src, 'model-last'), '--out', path.join(dir, 'init-bad')])).toBe(2);
    expect(io.stderr).toMatch(/drop --reparam/);
    expect(await cli([...args.map((a) => (a === '2' ? '4' : a)), '--width', '6', '--steps', '1', '--init', path.join(src, 'model-last'), '--out', path.join(dir, 'init-bad')])).toBe(2);
    expect(io.stderr).toMatch(/a ×2 model, the run is ×4/);
    expect(await cli([...args, '--width', '6', '--steps', '1', '--residual-interpolation', 'bilinear', '--init', path.join(src, 'model-last'), '--out', path.join(dir, 'init-bad')])).toBe(2);
    expect(io.stderr).toMatch(/nearest residual interpolation, the run has bilinear/);
    expect(await cli([...args, '--width', '6', '--steps', '1', '--global-gates', '--init', path.join(src, 'model-last'), '--out', path.join(dir, 'init-bad')])).toBe(2);
    expect(io.stderr).toMatch(/a net without global gates, the run has --global-gates/);
    await expect(cli([...args, '--steps', '1', '--detail', 'chroma', '--out', path.join(dir, 'init-bad')])).rejects.toThrow(/--detail takes rgb or luma/);
  });

  it('--detail luma trains a luma-detail student with the pixel loss on Y; --init converts an RGB one (same Y)', async () => {
    const src = path.join(dir, 'init-src');
    const out = path.join(dir, 'luma-run');
    const args = ['train', '--data', path.join(dir, 'imgs'), '--scale', '2', '--patch', '12', '--batch', '2', '--val', path.join(dir, 'imgs'), '--val-every', '1'];
    // (Same Y before clipping to [0, 1]: test/grow.test.ts. This 2-step source overshoots, so validation PSNRs differ.)
    expect(await cli([...args, '--width', '4', '--depth', '2', '--detail', 'luma', '--steps', '1', '--lr', '1e-8', '--init', path.join(src, 'model-last'), '--out', out])).toBe(0);
    expect(io.stderr).toMatch(/starting from .*init-src.model-last \(4×1, grown to 4×2\)/);
    const json = JSON.parse(await fs.readFile(path.join(out, 'model-last', 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.sharpenKd.options).toMatchObject({ detail: 'luma', grownFrom: { detail: 'rgb' } });
    expect(pixelSpaceOf({ detail: 'luma' } as TrainCliOptions)).toBe('y');
    expect(pixelSpaceOf({ detail: 'luma', pixelSpace: 'rgb' } as TrainCliOptions)).toBe('rgb');
    expect(pixelSpaceOf({} as TrainCliOptions)).toBe('rgb');
  });

  it('distills from a saved teacher with a cache, and reports bad options with exit code 2', async () => {
    const tdir = path.join(dir, 'teacher');
    await saveModel(buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 1 }), tdir);
    const out = path.join(dir, 'kd');
    const args = ['distill', '--teacher', tdir, '--scale', '2', '--width', '8', '--depth', '1', '--patch', '12', '--batch', '2', '--steps', '3', '--out', out, '--cache-dir', path.join(out, 'cache'), '--cache-size', '4', '--loss-feature', '0.1'];
    const code = await cli(args);
    expect(io.stderr).toMatch(/synthetic/);
    expect(code).toBe(0);
    const index = JSON.parse(await fs.readFile(path.join(out, 'cache', 'index.json'), 'utf8'));
    expect(index.count).toBe(4);
    // --loss-feature with --cache-dir: the teacher's tap features are cached with its predictions.
    expect(index.features.length).toBeGreaterThan(0);
    expect(index.features[0].shape[0]).toBe(4);
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).tensors.some((t) => t.name.startsWith('adapter/'))).toBe(true);
    io.stdout = '';
    expect(await cli([...args, '--resume'])).toBe(0);
    expect(io.stdout.trimEnd()).toBe('already finished at step 3 of 3; nothing to do (raise --steps to train further)');
    // --cache-context: the teacher runs on patches 2·2 pixels larger and the cache keeps their 12-pixel centres.
    const ctx = path.join(dir, 'kd-context');
    const ctxArgs = ['distill', '--teacher', tdir, '--scale', '2', '--width', '8', '--depth', '1', '--patch', '12', '--batch', '2', '--steps', '2', '--out', ctx, '--cache-size', '4', '--cache-context', '2'];
    io.stderr = '';
    expect(await cli(ctxArgs)).toBe(2);
    expect(io.stderr).toMatch(/--cache-context .*needs --cache-dir/);
    expect(await cli([...ctxArgs, '--cache-dir', path.join(ctx, 'cache')])).toBe(0);
    const ctxIndex = JSON.parse(await fs.readFile(path.join(ctx, 'cache', 'index.json'), 'utf8'));
    expect(ctxIndex).toMatchObject({ count: 4, lrSize: 12, hrSize: 24 });
    expect(ctxIndex.description).toMatch(/p=16 .*centre=12$/);
    io.stderr = '';
    expect(await cli(['distill', '--teacher', path.join(dir, 'nope'), '--scale', '2', '--out', out, '--steps', '1'])).toBe(2);
    expect(io.stderr).toMatch(/not a model folder/);
    expect(await cli(['train', '--scale', '2', '--out', out, '--steps', '2', '--schedule', 'linear'])).toBe(2);
    expect(await cli(['train', '--scale', '2', '--out', out, '--data', path.join(dir, 'missing')])).toBe(2);
  });

  it('distills from a shipped student by name (a teaching assistant), and refuses one of another scale', async () => {
    const out = path.join(dir, 'kd-assistant');
    const args = ['--scale', '2', '--width', '8', '--depth', '1', '--patch', '12', '--batch', '2', '--steps', '2', '--teacher-runtime', 'tfjs', '--out', out];
    expect(await cli(['distill', '--teacher', 'x2-fast', ...args, '--loss-feature', '1'])).toBe(0);
    // x2-fast is 16 wide and the student 8: the feature term goes through trained 1×1 adapters.
    expect((await loadCheckpoint(path.join(out, 'last.ckpt'))).tensors.some((t) => t.name.startsWith('adapter/'))).toBe(true);
    io.stderr = '';
    expect(await cli(['distill', '--teacher', 'x4', ...args, '--out', path.join(dir, 'kd-x4')])).toBe(2);
    expect(io.stderr).toMatch(/--teacher x4 is a ×4 model; this run trains at ×2/);
    // --feature-teacher: the feature term from the assistant, the output targets from --teacher (here cached).
    const tdir = path.join(dir, 'teacher-for-assistant');
    await saveModel(buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 1 }), tdir);
    const both = path.join(dir, 'kd-both');
    expect(await cli(['distill', '--teacher', tdir, '--feature-teacher', 'x2-fast', ...args, '--loss-feature', '1', '--cache-dir', path.join(both, 'cache'), '--cache-size', '4', '--out', both])).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(both, 'cache', 'index.json'), 'utf8')).features ?? []).toEqual([]);
    expect(await cli(['distill', '--teacher', tdir, '--feature-teacher', 'x1', ...args, '--loss-feature', '1', '--out', both])).toBe(2);
    expect(io.stderr).toMatch(/--feature-teacher x1 is a ×1 model/);
  });

  it('distills with extra inputs labelled by the teacher (--extra, --extra-downscale)', async () => {
    const tdir = path.join(dir, 'teacher-extra');
    await saveModel(buildTeacher({ scale: 2, depths: [1, 1], widthMultiplier: 1 / 16, seed: 1 }), tdir);
    const out = path.join(dir, 'kd-extra');
    const imgs = path.join(dir, 'imgs');
    const args = ['distill', '--teacher', tdir, '--scale', '2', '--width', '8', '--depth', '1', '--patch', '12', '--batch', '2', '--steps', '2', '--data', imgs, '--extra', imgs, '--extra-downscale', '2', '--out', out];
    io.stderr = '';
    expect(await cli(args)).toBe(2);
    expect(io.stderr).toMatch(/--extra inputs have no HR.*--cache-dir/);
    expect(await cli([...args, '--cache-dir', path.join(out, 'cache'), '--cache-size', '8'])).toBe(0);
    const index = JSON.parse(await fs.readFile(path.join(out, 'cache', 'index.json'), 'utf8'));
    expect(index.count).toBe(8);
    expect(index.dtypes.hr).toBe('f16'); // half the targets are the teacher's predictions
    io.stderr = '';
    expect(await cli(['distill', '--teacher', tdir, '--scale', '2', '--steps', '1', '--extra-downscale', '2', '--out', out])).toBe(2);
    expect(io.stderr).toMatch(/--extra-downscale applies to the --extra folders/);
  });
});
