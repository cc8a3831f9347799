/**
 * Model metadata: which architecture built a model, its scale, its options and its default feature taps.
 * Stored with `LayersModel.setUserDefinedMetadata` so that it survives save/load (`userDefinedMetadata`
 * in model.json).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';

/**
 * The architectures sharpen-kd builds, plus `external` for adopted models ({@link teacherFromModel}).
 *
 * @example
 * ```ts
 * const arch: ModelArch | undefined = getModelInfo(model)?.arch; // 'compact'
 * ```
 */
export type ModelArch = 'espcn' | 'fsrcnn' | 'compact' | 'resnet-unet' | 'emt' | 'external';

/**
 * Upscaling factors the builders support (1 = sharpening at the same size).
 *
 * @example
 * ```ts
 * const scale: Scale = 4;
 * const student = buildStudent({ scale });
 * ```
 */
export type Scale = 1 | 2 | 3 | 4;

/**
 * What {@link getModelInfo} returns.
 *
 * @example
 * ```ts
 * const info: ModelInfo = getModelInfo(model); // { arch: 'espcn', scale: 4, role: 'student', taps: [...], options: {...} }
 * ```
 */
export interface ModelInfo {
  /** Architecture that built the model. */
  arch: ModelArch;
  /** Output size / input size. */
  scale: number;
  /** `student` or `teacher`. */
  role: 'student' | 'teacher';
  /** Default feature-tap layer names for feature distillation (see {@link tapModel}). */
  taps: string[];
  /** The resolved builder options (JSON). */
  options: Record<string, unknown>;
  /** Version of the metadata layout. */
  version: 1;
}

const KEY = 'sharpenKd';

/** @internal Stores `info` on the model. */
export function setModelInfo(model: tfl.LayersModel, info: Omit<ModelInfo, 'version'>): void {
  const prev = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  model.setUserDefinedMetadata({ ...prev, [KEY]: JSON.parse(JSON.stringify({ ...info, version: 1 })) });
}

/**
 * Reads the sharpen-kd metadata of a model built by {@link buildStudent}, {@link buildTeacher} or
 * {@link teacherFromModel}, or loaded with {@link loadModel}.
 *
 * @throws ConfigError when the model carries no sharpen-kd metadata.
 * @example
 * ```ts
 * const { arch, scale } = getModelInfo(await loadModel('runs/x4/model.json'));
 * ```
 */
export function getModelInfo(model: tfl.LayersModel): ModelInfo {
  const info = findModelInfo(model);
  if (!info) {
    throw new ConfigError(
      `model "${model.name}" has no sharpen-kd metadata: build it with buildStudent/buildTeacher, wrap it with teacherFromModel, or load it with loadModel`,
    );
  }
  return info;
}

/** @internal Like {@link getModelInfo} but returns undefined instead of throwing. */
export function findModelInfo(model: tfl.LayersModel): ModelInfo | undefined {
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const info = meta?.[KEY] as ModelInfo | undefined;
  if (!info || typeof info !== 'object' || typeof info.arch !== 'string' || typeof info.scale !== 'number') return undefined;
  return { ...info, taps: [...(info.taps ?? [])], options: { ...(info.options ?? {}) } };
}

/** @internal Validates a scale option. */
export function checkScale(scale: unknown): Scale {
  if (scale !== 1 && scale !== 2 && scale !== 3 && scale !== 4) {
    throw new ConfigError(`scale must be 1, 2, 3 or 4, got ${String(scale)}`);
  }
  return scale;
}

/** @internal Validates an integer option in `[min, max]`. */
export function checkPositiveInt(name: string, v: unknown, min = 1, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be an integer ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${String(v)}`);
  }
  return v;
}
