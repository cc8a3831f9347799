/**
 * Run configs: `sharpen-kd train --config run.json` / `sharpen-kd distill --config run.json`. A run config is a JSON
 * file that holds a training run's flags, grouped (model, data, schedule, loss, teacher, checkpoint, validation), so a
 * run is one file to read, diff and rerun instead of a shell line. It maps onto the same options the flags produce
 * (every value goes through the flag's own parser), so a config and the equivalent flags run the same plan. Its
 * `schedule`, `loss`, `checkpoint` and `validation` sections are the groups of the same name of the options `train`
 * and `distill` take, key for key (`trainOptionsFromCli` in train.ts).
 *
 * - Flags given on the command line override the config (e.g. `--config run.json --steps 30000 --threads 2`; a `-d`
 *   on the command line replaces the config's `data.folders`).
 * - Paths resolve relative to the config file. A path may start with `$NAME` or `${NAME}`: an environment variable
 *   (relative values are relative to the working directory), or, when the environment does not set it, the default
 *   the config gives under `variables` (relative to the config file). sharpen-kd itself defines no default.
 * - A config run resumes: it continues from `<out>/last.ckpt` when that exists (rerun the same command to continue).
 *   `resumeFrom` names the checkpoint a run starts from before it has one of its own (another run's folder or `.ckpt`:
 *   a new cosine cycle, a fine-tune). `--resume` on the command line overrides both.
 * - Unknown keys are a {@link ConfigError} that names the key, so a typo never falls back to a default silently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command, Option } from 'commander';
import { didYouMean } from '../core/did-you-mean';
import { ConfigError } from '../errors';
import { TEACHER_NAMES } from './options';
import type { RandomDegradation } from '../data/degrade';
import type { LossWeights } from '../losses/combined';
import type { TrainCheckpointOptions, TrainScheduleOptions, TrainValidationOptions } from '../train/options';

/** A random degradation in a config: `"off"` / `false`, `[min, max]`, `[min, max, prob]` or `{ range, prob }`. */
export type RunConfigDegradation = false | 'off' | [number, number] | [number, number, number] | RandomDegradation;

/**
 * The schema of a run config. Every key is optional (`scale` and `out`, and for `distill` `teacher.model`, must come
 * from the config or the command line); unset keys keep the flags' defaults (`sharpen-kd train --help`).
 */
export interface RunConfig {
  /** Free text: what the run is for. Not used. */
  description?: string;
  /** Defaults of the `$NAME` variables that start paths, used when the environment does not set them; relative to the config file. */
  variables?: Record<string, string>;
  /** `--scale`: 1 (sharpening), 2, 3 or 4. */
  scale?: number;
  /** `--seed`: seed of the data stream and initialisation. */
  seed?: number;
  /** `--out`: the run folder (last.ckpt, best.ckpt, log.jsonl, model-best/, model-last/). */
  out?: string;
  /** The run folder or `.ckpt` a fresh run starts from (until `<out>/last.ckpt` exists). */
  resumeFrom?: string;
  /** `--init`: a saved compact student whose weights a fresh run starts from (grown to `model.width` / `model.depth`). */
  init?: string;
  /** `--backend`: TF.js backend (default wasm). */
  backend?: string;
  /** `--threads`: wasm threads. */
  threads?: number;
  model?: {
    /** `--arch`: compact, espcn, fsrcnn (or resnet, the teacher, for `train`). */
    arch?: string;
    width?: number;
    depth?: number;
    /** `--unshuffle`: 1, 2 or 4. */
    unshuffle?: number;
    /** `--detail`: rgb or luma. */
    detail?: string;
    /** `--residual-interpolation`: nearest or bilinear. */
    residualInterpolation?: string;
    reparam?: boolean;
    /** `--reparam-expand`. */
    reparamExpand?: number;
    /** `--prelu-slopes`: channel or layer. */
    preluSlopes?: string;
    /** `--global-gates`. */
    globalGates?: boolean;
    /** `train --arch resnet`: `--teacher-depths`, `--width-mult`, `--teacher-activation`. */
    teacherDepths?: number[];
    widthMult?: number;
    teacherActivation?: string;
  };
  data?: {
    /** `--data` (repeatable): training image folders; none = synthetic images. */
    folders?: string[];
    patch?: number;
    batch?: number;
    cacheMb?: number;
    /** `distill --unlabeled`. */
    unlabeled?: boolean;
    /** `--no-data-worker` when false: make the patches in the training thread. */
    worker?: boolean;
    /** `--rescale`: the versions of each HR image patches are drawn from, e.g. `[1, 0.8, 0.6]`. */
    rescale?: number[];
    /** `train --privileged`: targets the data makes itself (`wiener-oracle`). */
    privileged?: 'wiener-oracle';
    /** `distill --extra`: folders of inputs without HR, mixed in and labelled by the teacher. */
    extra?: string[];
    /** `distill --extra-downscale`. */
    extraDownscale?: number;
    degradation?: { blur?: RunConfigDegradation; motionBlur?: RunConfigDegradation; noise?: RunConfigDegradation; jpeg?: RunConfigDegradation };
  };
  /**
   * `--steps`, `--lr`, `--schedule` (`kind`), `--warmup`, `--min-lr`, `--schedule-start` (`start`), `--clip`, `--ema`,
   * `--skip-spikes` (`skipSpikes`): the `schedule` options of `train` / `distill`, key for key.
   */
  schedule?: Partial<Pick<TrainScheduleOptions, 'steps' | 'lr' | 'kind' | 'warmup' | 'minLr' | 'start' | 'clip' | 'ema' | 'skipSpikes'>>;
  /**
   * `--loss-pixel`, `--loss-ssim`, `--pixel-loss` (`pixelKind`), `--pixel-space`; `distill`: `--loss-output`,
   * `--output-loss` (`outputKind`), `--output-bounded` (`outputBounded`), `--loss-feature`. The `loss` option, key
   * for key.
   */
  loss?: Pick<LossWeights, 'pixel' | 'ssim' | 'pixelKind' | 'pixelSpace' | 'output' | 'outputKind' | 'outputBounded' | 'feature'>;
  /** `distill` only. */
  teacher?: {
    /**
     * `--teacher`: a pretrained name (emt-x4, esrgan-slim, ...), a shipped student (x4-plus, ...), resnet, or a path
     * (model folder, model.json, .pth).
     */
    model?: string;
    /** `--feature-teacher`: the model the feature term is taken from instead of `model` (same values). */
    featureModel?: string;
    /** `--teacher-weights`. */
    weights?: string;
    /** `--teacher-runtime`: auto, onnx or tfjs. */
    runtime?: string;
    /** `--teacher-ensemble`: 1, 2, 4 or 8. */
    ensemble?: number;
    cacheDir?: string;
    cacheSize?: number;
    cacheContext?: number;
    /** `--no-cache-augment` when false. */
    cacheAugment?: boolean;
  };
  /** `--checkpoint-every`, `--checkpoint-precision`, `--log-every`: the `checkpoint` option, key for key. */
  checkpoint?: TrainCheckpointOptions;
  /** `--val`, `--val-every`, `--val-images`: the `validation` option, key for key (`folder` relative to the config). */
  validation?: Pick<TrainValidationOptions, 'folder' | 'every' | 'images'>;
}

type Kind = 'number' | 'string' | 'boolean' | 'numbers' | 'path' | 'paths' | 'degradation' | 'teacher';

/** Config key → the flag's attribute name (as commander names it) and the JSON type it takes. */
const FIELDS: Record<string, { flag: string; kind: Kind }> = {
  scale: { flag: 'scale', kind: 'number' },
  seed: { flag: 'seed', kind: 'number' },
  out: { flag: 'out', kind: 'path' },
  resumeFrom: { flag: 'resume', kind: 'path' },
  init: { flag: 'init', kind: 'path' },
  backend: { flag: 'backend', kind: 'string' },
  threads: { flag: 'threads', kind: 'number' },
  'model.arch': { flag: 'arch', kind: 'string' },
  'model.width': { flag: 'width', kind: 'number' },
  'model.depth': { flag: 'depth', kind: 'number' },
  'model.unshuffle': { flag: 'unshuffle', kind: 'number' },
  'model.detail': { flag: 'detail', kind: 'string' },
  'model.residualInterpolation': { flag: 'residualInterpolation', kind: 'string' },
  'model.reparam': { flag: 'reparam', kind: 'boolean' },
  'model.reparamExpand': { flag: 'reparamExpand', kind: 'number' },
  'model.preluSlopes': { flag: 'preluSlopes', kind: 'string' },
  'model.globalGates': { flag: 'globalGates', kind: 'boolean' },
  'model.teacherDepths': { flag: 'teacherDepths', kind: 'numbers' },
  'model.widthMult': { flag: 'widthMult', kind: 'number' },
  'model.teacherActivation': { flag: 'teacherActivation', kind: 'string' },
  'data.folders': { flag: 'data', kind: 'paths' },
  'data.patch': { flag: 'patch', kind: 'number' },
  'data.batch': { flag: 'batch', kind: 'number' },
  'data.cacheMb': { flag: 'cacheMb', kind: 'number' },
  'data.unlabeled': { flag: 'unlabeled', kind: 'boolean' },
  'data.worker': { flag: 'dataWorker', kind: 'boolean' },
  'data.rescale': { flag: 'rescale', kind: 'numbers' },
  'data.privileged': { flag: 'privileged', kind: 'string' },
  'data.extra': { flag: 'extra', kind: 'paths' },
  'data.extraDownscale': { flag: 'extraDownscale', kind: 'number' },
  'data.degradation.blur': { flag: 'blur', kind: 'degradation' },
  'data.degradation.motionBlur': { flag: 'motionBlur', kind: 'degradation' },
  'data.degradation.noise': { flag: 'noise', kind: 'degradation' },
  'data.degradation.jpeg': { flag: 'jpeg', kind: 'degradation' },
  'schedule.steps': { flag: 'steps', kind: 'number' },
  'schedule.lr': { flag: 'lr', kind: 'number' },
  'schedule.kind': { flag: 'schedule', kind: 'string' },
  'schedule.warmup': { flag: 'warmup', kind: 'number' },
  'schedule.minLr': { flag: 'minLr', kind: 'number' },
  'schedule.start': { flag: 'scheduleStart', kind: 'number' },
  'schedule.clip': { flag: 'clip', kind: 'number' },
  'schedule.ema': { flag: 'ema', kind: 'number' },
  'schedule.skipSpikes': { flag: 'skipSpikes', kind: 'number' },
  'loss.pixel': { flag: 'lossPixel', kind: 'number' },
  'loss.ssim': { flag: 'lossSsim', kind: 'number' },
  'loss.pixelKind': { flag: 'pixelLoss', kind: 'string' },
  'loss.pixelSpace': { flag: 'pixelSpace', kind: 'string' },
  'loss.output': { flag: 'lossOutput', kind: 'number' },
  'loss.outputKind': { flag: 'outputLoss', kind: 'string' },
  'loss.outputBounded': { flag: 'outputBounded', kind: 'boolean' },
  'loss.feature': { flag: 'lossFeature', kind: 'number' },
  'teacher.model': { flag: 'teacher', kind: 'teacher' },
  'teacher.featureModel': { flag: 'featureTeacher', kind: 'teacher' },
  'teacher.weights': { flag: 'teacherWeights', kind: 'path' },
  'teacher.runtime': { flag: 'teacherRuntime', kind: 'string' },
  'teacher.ensemble': { flag: 'teacherEnsemble', kind: 'number' },
  'teacher.cacheDir': { flag: 'cacheDir', kind: 'path' },
  'teacher.cacheSize': { flag: 'cacheSize', kind: 'number' },
  'teacher.cacheContext': { flag: 'cacheContext', kind: 'number' },
  'teacher.cacheAugment': { flag: 'cacheAugment', kind: 'boolean' },
  'checkpoint.every': { flag: 'checkpointEvery', kind: 'number' },
  'checkpoint.precision': { flag: 'checkpointPrecision', kind: 'string' },
  'checkpoint.logEvery': { flag: 'logEvery', kind: 'number' },
  'validation.folder': { flag: 'val', kind: 'path' },
  'validation.every': { flag: 'valEvery', kind: 'number' },
  'validation.images': { flag: 'valImages', kind: 'number' },
};
/** Keys that are not flags. */
const META_KEYS = new Set(['description', 'variables']);
const GROUPS = new Set(Object.keys(FIELDS).flatMap((k) => k.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))));

/** A run config read from a file: the flag values it sets (paths resolved), and where a fresh run starts from. */
export interface LoadedRunConfig {
  /** The config file as given. */
  file: string;
  /** Flag attribute name → value, as the flag's parser would produce it (without `resume`). */
  values: Record<string, unknown>;
  /** `resumeFrom`, resolved. */
  resumeFrom?: string;
}

/** Where the config file and the environment are read from (tests set them). */
export interface RunConfigContext {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKey(file: string, key: string): ConfigError {
  return new ConfigError(`${file}: unknown key "${key}"${didYouMean(key, [...Object.keys(FIELDS), ...META_KEYS])}`);
}

/** Flattens the config to `group.key` → value, rejecting unknown keys and non-object groups. */
function flatten(file: string, obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!prefix && META_KEYS.has(k)) continue;
    if (GROUPS.has(key)) {
      if (!isObject(v)) throw new ConfigError(`${file}: "${key}" must be an object of settings, got ${JSON.stringify(v)}`);
      flatten(file, v, key, out);
    } else if (key in FIELDS) {
      out[key] = v;
    } else {
      throw unknownKey(file, key);
    }
  }
  return out;
}

/** Resolves a config path: a leading `$NAME` from the environment or `variables`, then relative to the config file. */
function resolvePath(value: string, key: string, file: string, vars: Record<string, string>, ctx: Required<RunConfigContext>): string {
  const dir = path.dirname(path.resolve(ctx.cwd, file));
  let p = value;
  const m = /^\$(?:\{(\w+)\}|(\w+))/.exec(value);
  if (m) {
    const name = m[1] ?? m[2];
    const env = ctx.env[name];
    let base: string;
    if (env !== undefined && env !== '') base = path.resolve(ctx.cwd, env);
    else if (vars[name] !== undefined) base = path.resolve(dir, vars[name]);
    else throw new ConfigError(`${file}: ${key}: $${name} is not set (set it in the environment, or give it a default under "variables")`);
    p = base + value.slice(m[0].length);
  }
  if (p.includes('$')) throw new ConfigError(`${file}: ${key}: a variable can only start a path, got "${value}"`);
  // As the user would type it from the working directory: the shorter of the relative and the absolute path.
  const abs = path.resolve(dir, p);
  const rel = path.relative(ctx.cwd, abs) || '.';
  return path.isAbsolute(rel) || rel.length > abs.length ? abs : rel;
}

/** A JSON value as the string the flag's parser takes, after checking its JSON type. */
function asFlagString(file: string, key: string, kind: Kind, v: unknown): string {
  const bad = (want: string) => new ConfigError(`${file}: "${key}" must be ${want}, got ${JSON.stringify(v)}`);
  switch (kind) {
    case 'number':
      if (typeof v !== 'number') throw bad('a number');
      return String(v);
    case 'numbers':
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number')) throw bad('a list of numbers');
      return v.join(',');
    case 'degradation': {
      if (v === false || v === 'off') return 'off';
      const r = isObject(v) ? [...(Array.isArray(v.range) ? v.range : []), ...(v.prob === undefined ? [] : [v.prob])] : v;
      if (!Array.isArray(r) || r.length < 2 || r.length > 3 || r.some((x) => typeof x !== 'number') || (isObject(v) && Object.keys(v).some((k) => k !== 'range' && k !== 'prob'))) {
        throw bad('"off", [min, max], [min, max, prob] or { "range": [min, max], "prob": p }');
      }
      return r.join(',');
    }
    default:
      if (typeof v !== 'string') throw bad('a string');
      return v;
  }
}

function readJson(file: string, cwd: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the run config ${file}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(json)) throw new ConfigError(`${file}: a run config is a JSON object, e.g. { "scale": 4, "out": "runs/x4" }`);
  return json;
}

/** The command a run config is for: `distill` when it has a `teacher` section, else `train`. */
export function runConfigCommand(file: string, cwd = process.cwd()): 'train' | 'distill' {
  return readJson(file, cwd).teacher !== undefined ? 'distill' : 'train';
}

/**
 * Reads a run config for a command: checks its keys and types, expands variables, resolves paths, and parses every
 * value with the command's own flag parser. Throws {@link ConfigError} naming the key at fault.
 */
export function loadRunConfig(file: string, cmd: Command, ctx: RunConfigContext = {}): LoadedRunConfig {
  const c: Required<RunConfigContext> = { env: ctx.env ?? process.env, cwd: ctx.cwd ?? process.cwd() };
  const json = readJson(file, c.cwd);
  if (json.description !== undefined && typeof json.description !== 'string') throw new ConfigError(`${file}: "description" must be a string`);
  const vars = json.variables ?? {};
  if (!isObject(vars) || Object.values(vars).some((v) => typeof v !== 'string')) throw new ConfigError(`${file}: "variables" must map names to paths, e.g. { "SHARPEN_KD_DATA": "../data" }`);
  const flat = flatten(file, json);
  const options = new Map<string, Option>(cmd.options.map((o) => [o.attributeName(), o]));
  const result: LoadedRunConfig = { file, values: {} };
  for (const [key, v] of Object.entries(flat)) {
    const { flag, kind } = FIELDS[key];
    const option = options.get(flag);
    if (!option) {
      const why = cmd.name() === 'train' ? 'a sharpen-kd distill setting: run this config with sharpen-kd distill' : 'a sharpen-kd train setting (--arch resnet, the teacher)';
      throw new ConfigError(`${file}: "${key}" is ${why}`);
    }
    let value: unknown;
    if (kind === 'path' || kind === 'paths' || kind === 'teacher') {
      const list = kind === 'paths' ? v : [v];
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === '')) throw new ConfigError(`${file}: "${key}" must be ${kind === 'paths' ? 'a list of paths' : 'a path'}, got ${JSON.stringify(v)}`);
      const resolved = (list as string[]).map((x) => {
        if (kind === 'teacher' && TEACHER_NAMES.includes(x.replace(/^@upscalerjs\//, ''))) return x;
        return resolvePath(x, key, file, vars as Record<string, string>, c);
      });
      value = kind === 'paths' ? resolved : resolved[0];
    } else if (kind === 'boolean') {
      if (typeof v !== 'boolean') throw new ConfigError(`${file}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
      value = v;
    } else {
      const s = asFlagString(file, key, kind, v);
      try {
        value = option.parseArg ? option.parseArg(s, undefined) : s;
      } catch (e) {
        throw new ConfigError(`${file}: "${key}": ${(e as Error).message}`, { cause: e });
      }
    }
    if (flag === 'resume') result.resumeFrom = value as string;
    else result.values[flag] = value;
  }
  return result;
}

/**
 * Adds `-c, --config <file>` to `train` / `distill`: before the action runs, the config's values fill every flag not
 * given on the command line, the run resumes as described above, and the options in `required` must then be set (by
 * either). Errors are one line and exit code 2, as other configuration errors.
 */
export function addRunConfigOption(cmd: Command, required: readonly string[]): Command {
  return cmd
    .option('-c, --config <file>', 'run config (JSON): the flags of a run, grouped (model, data, schedule, loss, teacher, checkpoint, validation); paths relative to the file; flags on the command line override it; the run resumes from <out>/last.ckpt, else from its resumeFrom')
    .hook('preAction', (command) => {
      const file = command.getOptionValue('config') as string | undefined;
      if (file !== undefined) {
        try {
          applyRunConfig(command, loadRunConfig(file, command));
        } catch (e) {
          if (e instanceof ConfigError) command.error(`error: ${e.message}`, { exitCode: 2, code: 'sharpen-kd.config' });
          throw e;
        }
      }
      for (const option of command.options) {
        if (required.includes(option.attributeName()) && command.getOptionValue(option.attributeName()) === undefined) {
          command.error(`error: required option '${option.flags}' not specified${file !== undefined ? ` (on the command line or in ${file})` : ''}`, { code: 'commander.missingMandatoryOptionValue' });
        }
      }
    });
}

/** Sets the config's values on the command where the command line left the flag unset (or at its default). */
export function applyRunConfig(cmd: Command, config: LoadedRunConfig): void {
  const fromCli = (flag: string) => cmd.getOptionValueSource(flag) === 'cli';
  for (const [flag, value] of Object.entries(config.values)) {
    if (!fromCli(flag)) cmd.setOptionValueWithSource(flag, value, 'config');
  }
  if (fromCli('resume')) return;
  // A config run continues its own last.ckpt; before it has one, it starts from resumeFrom (which must exist).
  const out = cmd.getOptionValue('out') as string | undefined;
  const own = out !== undefined && fs.existsSync(path.join(out, 'last.ckpt'));
  if (own || config.resumeFrom === undefined) {
    cmd.setOptionValueWithSource('resume', true, 'config');
    return;
  }
  const from = config.resumeFrom;
  const ckpt = fs.existsSync(from) && fs.statSync(from).isDirectory() ? path.join(from, 'last.ckpt') : from;
  if (!fs.existsSync(ckpt)) throw new ConfigError(`${config.file}: resumeFrom: ${ckpt} does not exist (train the run it continues first)`);
  cmd.setOptionValueWithSource('resume', from, 'config');
}
