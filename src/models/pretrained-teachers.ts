/**
 * Pretrained teachers from npm packages that ship TF.js weights, loaded offline from node_modules (Node)
 * or from a URL where the package's files are served (browsers). Currently the MIT-licensed UpscalerJS
 * ESRGAN (RDN) models, which expect and produce RGB in [0, 255].
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { isNode } from '../backends/env';
import type { TaskOptions } from '../core/task';
import { ConfigError, ModelError } from '../errors';
import { loadModel } from '../io/model-io';
import { teacherFromModel } from './teacher-from-model';

/**
 * Pretrained teachers {@link loadPretrainedTeacher} knows.
 *
 * @example
 * ```ts
 * const name: PretrainedTeacherName = 'esrgan-slim';
 * const teacher = await loadPretrainedTeacher(name, { scale: 4 });
 * ```
 */
export type PretrainedTeacherName = 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick';

const PACKAGES: Record<PretrainedTeacherName, { pkg: string; scales: number[]; range: [number, number] }> = {
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
  scale: number;
  /** Where the package's files are (folder or URL prefix holding `models/x<scale>/model.json`). Default (Node): node_modules. */
  baseUrl?: string;
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
export async function loadPretrainedTeacher(name: PretrainedTeacherName, opts: PretrainedTeacherOptions): Promise<tfl.LayersModel> {
  const entry = PACKAGES[name];
  if (!entry) throw new ConfigError(`unknown pretrained teacher "${String(name)}": use ${Object.keys(PACKAGES).join(', ')}`);
  if (!entry.scales.includes(opts?.scale)) throw new ConfigError(`${name} has scales ${entry.scales.join(', ')}, not ${String(opts?.scale)}`);
  let base = opts.baseUrl;
  if (base === undefined) {
    if (!isNode()) throw new ConfigError(`in browsers pass baseUrl: where the files of ${entry.pkg} are served`);
    base = await findPackageDir(entry.pkg);
    if (!base) throw new ModelError(`${entry.pkg} is not installed: npm install ${entry.pkg} (its weights ship inside the package)`);
  }
  const rel = `models/x${opts.scale}/model.json`;
  const src = /^[a-z]+:\/\//i.test(base) || !isNode() ? `${base.replace(/\/$/, '')}/${rel}` : (await import('node:path')).join(base, rel);
  const model = await loadModel(src, opts);
  return teacherFromModel(model, { scale: opts.scale, inputRange: entry.range, name: `${name}_x${opts.scale}` });
}
