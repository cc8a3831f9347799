/**
 * Built-in models: the shipped students `x1` (sharpening), `x2`, `x4`, `x4-plus` (a larger ×4 student: more quality,
 * fewer frames per second), `x2-fast` (a smaller ×2 student: real-time at 1280×720, less quality) — TF.js layers models stored as
 * `models/<name>/model.json` + `weights.bin` at the package root — and `bicubic` (MATLAB-style interpolation,
 * no weights). In Node the folder is found from the installed package (works from `dist/index.js`,
 * `dist/index.cjs` and from `src/` in development); in browsers pass the URL the folder is served from.
 */
import { ModelError } from '../errors';
import { currentPlatform } from '../platform/current';

/**
 * Names {@link sharpen-kd!Student.load | Student.load} accepts besides paths and URLs.
 *
 * @example
 * ```ts
 * BUILTIN_MODELS; // ['x1', 'x2', 'x2-fast', 'x4', 'x4-plus', 'bicubic']
 * ```
 */
export const BUILTIN_MODELS = ['x1', 'x2', 'x2-fast', 'x4', 'x4-plus', 'bicubic'] as const;

/**
 * A built-in model name.
 *
 * @example
 * ```ts
 * const name: BuiltinModelName = 'x4';
 * ```
 */
export type BuiltinModelName = (typeof BUILTIN_MODELS)[number];

/** Scale of each shipped student. */
export const BUILTIN_SCALES: Record<Exclude<BuiltinModelName, 'bicubic'>, number> = { x1: 1, x2: 2, 'x2-fast': 2, x4: 4, 'x4-plus': 4 };

/** The shipped student a scale picks by default (the real-time one). */
const DEFAULT_FOR_SCALE: Readonly<Record<number, BuiltinModelName>> = { 1: 'x1', 2: 'x2', 4: 'x4' };

/** True for `x1`, `x2`, `x2-fast`, `x4`, `x4-plus` and `bicubic`. */
export function isBuiltinModel(name: string): name is BuiltinModelName {
  return (BUILTIN_MODELS as readonly string[]).includes(name);
}

/** The shipped student a scale picks by default (`x4` for 4, not `x4-plus`; `x2` for 2, not `x2-fast`), if there is one (`undefined` for 3). */
export function builtinForScale(scale: number): BuiltinModelName | undefined {
  return DEFAULT_FOR_SCALE[scale];
}

/**
 * True when a string looks like a model name rather than a path or URL (no slash, no dot): such strings that
 * are not built-in names are reported as unknown names.
 */
export function looksLikeName(s: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(s);
}

/** The error for a name that is neither built in nor a path. */
export function unknownModelError(name: string): ModelError {
  return new ModelError(
    `unknown model "${name}": use one of ${BUILTIN_MODELS.join(', ')}, or a folder / model.json path or URL of a saved model`,
  );
}

let rootPromise: Promise<string> | undefined;

/** @internal Finds the sharpen-kd package root by walking up from this module's file. Node only. */
export async function packageRoot(): Promise<string> {
  rootPromise ??= (async () => {
    const path = await import('node:path');
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const here = typeof __filename !== 'undefined' ? __filename : fileURLToPath(import.meta.url);
    let dir = path.dirname(here);
    for (;;) {
      try {
        const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
        if (pkg.name === 'sharpen-kd') return dir;
      } catch {
        // not here; keep walking up
      }
      const up = path.dirname(dir);
      if (up === dir) throw new ModelError(`cannot find the sharpen-kd package folder above ${here}: pass modelDir (Node) or modelBaseUrl`);
      dir = up;
    }
  })();
  return rootPromise;
}

/**
 * Where a shipped student lives: a folder (Node) or a `model.json` URL (browsers / `modelBaseUrl`).
 *
 * @throws ModelError when the model is not installed (Node) or no base URL is known (browsers).
 * @example
 * ```ts
 * await builtinModelLocation('x4');                                      // '/.../node_modules/sharpen-kd/models/x4'
 * await builtinModelLocation('x4', { modelBaseUrl: 'https://cdn.example/sharpen-kd/models/' });
 * ```
 */
export async function builtinModelLocation(name: Exclude<BuiltinModelName, 'bicubic'>, opts: { modelDir?: string; modelBaseUrl?: string } = {}): Promise<string> {
  if (opts.modelBaseUrl) return new URL(`${name}/model.json`, opts.modelBaseUrl.endsWith('/') ? opts.modelBaseUrl : `${opts.modelBaseUrl}/`).href;
  if (!currentPlatform().fileSystem) {
    throw new ModelError(`built-in model "${name}" needs the URL its files are served from in browsers: Student.load('${name}', { modelBaseUrl: 'https://.../sharpen-kd/models/' })`);
  }
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  const base = opts.modelDir ?? process.env.SHARPEN_KD_MODELS ?? path.join(await packageRoot(), 'models');
  const dir = path.join(base, name);
  try {
    await fs.access(path.join(dir, 'model.json'));
  } catch {
    throw new ModelError(`built-in model "${name}" is not installed: ${path.join(dir, 'model.json')} is missing. Reinstall sharpen-kd, or pass the folder of a trained model instead of "${name}"`);
  }
  return dir;
}
