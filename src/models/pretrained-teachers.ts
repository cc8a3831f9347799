/**
 * Pretrained teachers by name:
 * - `emt-x2`, `emt-x3`, `emt-x4`: EMT (MIT licence), the strongest teacher, from the authors' PyTorch checkpoints
 *   `EMT_LSR_x{2,3,4}.pth` (GitHub `Fried-Rice-Lab/EMT`, `modelzoo/EMT/`). sharpen-kd does not download them: pass
 *   the folder (or file) with `weights`, or set `SHARPEN_KD_TEACHERS` to a folder holding them (directly or in `EMT/`).
 * - `esrgan-slim`, `esrgan-medium`, `esrgan-thick`: the UpscalerJS ESRGAN (RDN) models from npm packages that ship
 *   TF.js weights, loaded offline from node_modules (Node) or from a URL where the package's files are served
 *   (browsers). They expect and produce RGB in [0, 255].
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TaskOptions } from '../core/task';
import { ConfigError, ModelError } from '../errors';
import { throwIfAborted } from '../core/task';
import type { TorchWeights } from '../io/torch-weights';
import { loadModel } from '../io/model-io';
import { currentPlatform } from '../platform/current';
import { getModelInfo } from './metadata';
import { teacherFromModel } from './teacher-from-model';
import { PRETRAINED_TEACHERS, type PretrainedTeacherName } from './pretrained-names';

// The names live in a module of their own, without TF.js, so that Student.load can test a name cheaply.
export { isPretrainedTeacher, PRETRAINED_TEACHERS, type PretrainedTeacherName } from './pretrained-names';

const EMT_SCALES: Partial<Record<PretrainedTeacherName, 2 | 3 | 4>> = { 'emt-x2': 2, 'emt-x3': 3, 'emt-x4': 4 };

const PACKAGES: Record<string, { pkg: string; scales: number[]; range: [number, number] }> = {
  'esrgan-slim': { pkg: '@upscalerjs/esrgan-slim', scales: [2, 3, 4, 8], range: [0, 255] },
  'esrgan-medium': { pkg: '@upscalerjs/esrgan-medium', scales: [2, 3, 4, 8], range: [0, 255] },
  'esrgan-thick': { pkg: '@upscalerjs/esrgan-thick', scales: [2, 3, 4, 8], range: [0, 255] },
};

/**
 * Options of {@link loadPretrainedTeacher}.
 *
 * @example
 * ```ts
 * const opts: PretrainedTeacherOptions = { scale: 4, baseUrl: '/vendor/esrgan-slim' };
 * ```
 */
export interface PretrainedTeacherOptions extends TaskOptions {
  /** ESRGAN models: the scale (2, 3, 4 or 8). EMT names carry their scale; if given it must agree. */
  scale?: number;
  /** ESRGAN models: where the package's files are (folder or URL prefix holding `models/x<scale>/model.json`). Default (Node): node_modules. */
  baseUrl?: string;
  /**
   * EMT: the checkpoint, as a `.pth` path or URL, a folder holding `EMT_LSR_x<s>.pth` (directly or in `EMT/`), or
   * the file's bytes. Default (Node): `$SHARPEN_KD_TEACHERS`.
   */
  weights?: string | Uint8Array;
}

/** @internal The root folder of an installed package, found from the working directory or this module. */
export async function findPackageDir(pkg: string): Promise<string | undefined> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const starts = [process.cwd()];
  try {
    const { createRequire } = await import('node:module');
    const req = createRequire(typeof __filename !== 'undefined' ? __filename : import.meta.url);
    starts.push(path.dirname(req.resolve(pkg)));
  } catch {
    // not resolvable from here: rely on the working directory
  }
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', ...pkg.split('/'));
      if (await fs.stat(path.join(candidate, 'package.json')).then(() => true, () => false)) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/**
 * Loads a pretrained SR model shipped in an npm package and wraps it with {@link teacherFromModel}
 * (range conversion included). In Node the package must be installed (`npm install @upscalerjs/esrgan-slim`);
 * nothing is downloaded at run time.
 *
 * @throws ConfigError for an unknown name or scale; ModelError when the package is not installed.
 * @example
 * ```ts
 * const teacher = await loadPretrainedTeacher('esrgan-slim', { scale: 4 });
 * const sr = teacher.predict(lr) as tf.Tensor4D; // [0, 1] in and out
 * ```
 */
export async function loadPretrainedTeacher(name: PretrainedTeacherName, opts: PretrainedTeacherOptions = {}): Promise<tfl.LayersModel> {
  const emtScale = EMT_SCALES[name];
  if (emtScale !== undefined) {
    if (opts.scale !== undefined && opts.scale !== emtScale) throw new ConfigError(`${name} upscales by ${emtScale}, not ${opts.scale}: use emt-x${opts.scale} for scale ${opts.scale}`);
    return loadEmt(name, emtScale, opts);
  }
  const entry = PACKAGES[name];
  if (!entry) throw new ConfigError(`unknown pretrained teacher "${String(name)}": use ${PRETRAINED_TEACHERS.join(', ')}`);
  if (opts.scale === undefined || !entry.scales.includes(opts.scale)) throw new ConfigError(`${name} has scales ${entry.scales.join(', ')}, not ${String(opts.scale)}`);
  const platform = currentPlatform();
  let base = opts.baseUrl;
  if (base === undefined) {
    if (!platform.fileSystem) throw new ConfigError(`in browsers pass baseUrl: where the files of ${entry.pkg} are served`);
    base = await findPackageDir(entry.pkg);
    if (!base) throw new ModelError(`${entry.pkg} is not installed: npm install ${entry.pkg} (its weights ship inside the package)`);
  }
  const rel = `models/x${opts.scale}/model.json`;
  const src = await platform.joinPath(base, rel);
  const model = await loadModel(src, opts);
  return teacherFromModel(model, { scale: opts.scale, inputRange: entry.range, name: `${name}_x${opts.scale}` });
}

/** Where an EMT checkpoint is: a file, a folder holding it (or `EMT/` with it), or `$SHARPEN_KD_TEACHERS`. */
async function findEmtCheckpoint(name: string, scale: number, where: string | undefined): Promise<string> {
  const file = `EMT_LSR_x${scale}.pth`;
  const hint = `get ${file} from GitHub Fried-Rice-Lab/EMT (modelzoo/EMT/, MIT licence) and pass its folder with --teacher-weights / weights, or set SHARPEN_KD_TEACHERS`;
  if (!currentPlatform().fileSystem) throw new ConfigError(`in browsers pass weights: the URL or bytes of ${file}`);
  const dir = where ?? process.env.SHARPEN_KD_TEACHERS;
  if (!dir) throw new ModelError(`${name} needs its weights: ${hint}`);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const stat = await fs.stat(dir).catch(() => undefined);
  if (stat?.isFile()) return dir;
  for (const candidate of [path.join(dir, file), path.join(dir, 'EMT', file)]) {
    if (await fs.stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new ModelError(`${name}: no ${file} in ${dir} (nor in ${path.join(dir, 'EMT')}): ${hint}`);
}

/** Reads an EMT checkpoint (bytes, URL or path) and converts it with {@link emtFromTorch}. */
async function loadEmt(name: PretrainedTeacherName, scale: number, opts: PretrainedTeacherOptions): Promise<tfl.LayersModel> {
  throwIfAborted(opts.signal);
  // Imported here so that loading a student does not load the checkpoint reader and EMT.
  const [{ loadTorchWeights }, { emtFromTorch }] = await Promise.all([import('../io/torch-weights'), import('./emt-weights')]);
  let weights: TorchWeights;
  if (opts.weights instanceof Uint8Array) {
    weights = loadTorchWeights(opts.weights);
  } else if (typeof opts.weights === 'string' && /^[a-z]+:\/\//i.test(opts.weights)) {
    const res = await fetch(opts.weights, { signal: opts.signal });
    if (!res.ok) throw new ModelError(`${name}: fetching ${opts.weights} gave HTTP ${res.status}`);
    weights = loadTorchWeights(new Uint8Array(await res.arrayBuffer()));
  } else {
    const { readTorchWeights } = await import('../io/model-io-node');
    weights = await readTorchWeights(await findEmtCheckpoint(name, scale, opts.weights));
  }
  const model = emtFromTorch(weights, { name: name.replace('-', '_') });
  const got = getModelInfo(model).scale;
  if (got !== scale) {
    model.dispose();
    throw new ModelError(`${name}: the checkpoint is EMT ×${got}, not ×${scale}`);
  }
  return model;
}
