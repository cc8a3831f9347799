/** `--init <model>` of `train` / `distill`: the starting weights of a student run, from a saved compact student. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors';
import { loadModel } from '../io/model-io';
import { growStudent } from '../models/grow';
import { getModelInfo } from '../models/metadata';
import { STUDENT_DEFAULTS, type StudentOptions } from '../models/student';

/**
 * Loads the compact student saved at `path` and returns it grown (Net2Net, same function) to the width and depth
 * of `spec`; the same size is an exact copy. An RGB-detail source becomes a luma-detail net with `spec.detail: 'luma'`
 * (same Y). The scale, pixel-unshuffle factor, residual interpolation and global gates must match `spec` (a net with
 * global gates is copied at its size, not grown).
 *
 * @throws ConfigError when `spec` is not a plain compact net or the saved model does not fit it.
 */
export async function initialStudent(path: string, spec: StudentOptions): Promise<tfl.LayersModel> {
  if ((spec.arch ?? 'compact') !== 'compact') throw new ConfigError(`--init grows compact students only, not --arch ${String(spec.arch)}`);
  if (spec.reparam) throw new ConfigError('--init starts the plain compact net from saved weights: drop --reparam (a saved model has no re-parameterizable branches)');
  const source = await loadModel(path);
  try {
    const info = getModelInfo(source);
    const o = info.options;
    if (info.arch !== 'compact' || info.role !== 'student') throw new ConfigError(`--init ${path}: not a compact student (${info.arch} ${info.role})`);
    if (info.scale !== spec.scale) throw new ConfigError(`--init ${path}: a ×${info.scale} model, the run is ×${String(spec.scale)}`);
    const unshuffle = (o.unshuffle as number | undefined) ?? 1;
    if (unshuffle !== (spec.unshuffle ?? 1)) throw new ConfigError(`--init ${path}: pixel-unshuffle ${unshuffle}, the run has ${spec.unshuffle ?? 1}`);
    const interp = (o.residualInterpolation as string | undefined) ?? 'nearest';
    if (interp !== (spec.residualInterpolation ?? 'nearest')) {
      throw new ConfigError(`--init ${path}: ${interp} residual interpolation, the run has ${spec.residualInterpolation ?? 'nearest'} (the grown net keeps its source's)`);
    }
    if ((o.globalGates === true) !== (spec.globalGates === true)) {
      throw new ConfigError(`--init ${path}: a net ${o.globalGates ? 'with' : 'without'} global gates, the run has ${spec.globalGates ? '--global-gates' : 'none'}`);
    }
    const width = spec.width ?? STUDENT_DEFAULTS.compact.width;
    const depth = spec.depth ?? STUDENT_DEFAULTS.compact.depth;
    if (width < (o.width as number) || depth < (o.depth as number)) {
      throw new ConfigError(`--init ${path}: a ${String(o.width)}×${String(o.depth)} net cannot start a smaller ${width}×${depth} run`);
    }
    process.stderr.write(
      `sharpen-kd: starting from ${path} (${String(o.width)}×${String(o.depth)}${width !== o.width || depth !== o.depth ? `, grown to ${width}×${depth}` : ''}); a resumed checkpoint replaces these weights\n`,
    );
    return await growStudent(source, { width, depth, detail: spec.detail, seed: spec.seed });
  } finally {
    source.dispose();
  }
}
