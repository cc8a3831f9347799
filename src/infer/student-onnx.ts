/**
 * Ready-made ONNX graphs next to saved models: `model.onnx` beside `model.json` (the shipped students have one, built
 * by `scripts/export-student-onnx.ts`). {@link Student.load} on ONNX Runtime runs it directly, so loading neither
 * imports TF.js nor converts the layers model.
 *
 * The file carries, in its metadata (`sharpen-kd-student`), what Student otherwise reads off the layers model (scale,
 * receptive field, tile memory, parameter and FLOP counts) and a SHA-256 of the model it was exported from
 * (`model.json` as parsed JSON, so line endings do not matter, plus the weight files). A file whose hash does not
 * match the model next to it is stale and ignored: the model is then converted as if there were no file.
 *
 * This module imports neither TF.js nor the exporter (`student-onnx-build.ts` writes the files).
 */
import { readOnnxMetadata } from '../models/onnx/proto';
import { currentPlatform } from '../platform/current';

/** File name of the ONNX graph beside a model's `model.json`. */
export const STUDENT_ONNX_FILE = 'model.onnx';
/** Metadata key of {@link StudentOnnxInfo} in that file. */
export const STUDENT_ONNX_KEY = 'sharpen-kd-student';

/**
 * What a `model.onnx` records about its model (JSON in the metadata entry {@link STUDENT_ONNX_KEY}).
 *
 * @example
 * ```ts
 * // models/x4/model.onnx
 * const info: StudentOnnxInfo = { version: 1, source: 'sha256:945dbf0b…', name: 'compact_x4', scale: 4, arch: 'compact',
 *   receptiveField: 10, align: 1, bytesPerInputPixel: 768, params: 21472, flopsPerInputPixel: 43168 };
 * ```
 */
export interface StudentOnnxInfo {
  version: 1;
  /** `sha256:<hex>` of the model the graph was exported from (see the file comment). */
  source: string;
  /** The layers model's name. */
  name: string;
  scale: number;
  /** Architecture from the model metadata, `unknown` without. */
  arch: string;
  /** Receptive-field radius in input pixels (`receptiveField(model).radius`). */
  receptiveField: number;
  /** Tile origin alignment (`receptiveField(model).align`). */
  align: number;
  /** Working memory per input pixel, for the default tile size. */
  bytesPerInputPixel: number;
  params: number;
  /** FLOPs per input pixel (`describeModel` at 64×64 input, divided by 64²). */
  flopsPerInputPixel: number;
}

/** A usable `model.onnx`: its bytes and what it records. */
export interface StudentOnnxFile {
  bytes: Uint8Array;
  info: StudentOnnxInfo;
  /** The file's path. */
  path: string;
}

/** The folder of a local model location (a folder or a `model.json` path), or undefined for URLs. */
function localModelDir(location: string, path: typeof import('node:path')): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) return undefined;
  const p = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
  return /\.json$/i.test(p) ? path.dirname(p) : p;
}

/**
 * @internal `sha256:<hex>` of a saved model folder: its `model.json` re-serialised from the parsed JSON, then each
 * weight file of its manifest in order.
 *
 * @throws Error when `model.json` or a weight file cannot be read or parsed.
 */
export async function modelSourceHash(dir: string): Promise<string> {
  const [fs, path, { createHash }] = await Promise.all([import('node:fs/promises'), import('node:path'), import('node:crypto')]);
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
  const h = createHash('sha256');
  h.update(JSON.stringify(json));
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths ?? []) {
      h.update('\0');
      h.update(await fs.readFile(path.join(dir, p)));
    }
  }
  return `sha256:${h.digest('hex')}`;
}

function parseInfo(bytes: Uint8Array): StudentOnnxInfo | undefined {
  let raw: string | undefined;
  try {
    raw = readOnnxMetadata(bytes)[STUDENT_ONNX_KEY];
  } catch {
    return undefined;
  }
  if (!raw) return undefined;
  try {
    const info = JSON.parse(raw) as Partial<StudentOnnxInfo>;
    const nums = [info.scale, info.receptiveField, info.align, info.bytesPerInputPixel, info.params, info.flopsPerInputPixel];
    if (info.version !== 1 || typeof info.source !== 'string' || nums.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return undefined;
    return info as StudentOnnxInfo;
  } catch {
    return undefined;
  }
}

/**
 * @internal The `model.onnx` beside a local model (folder or `model.json` path), when there is one, it carries
 * {@link StudentOnnxInfo}, and its source hash matches the model files; otherwise undefined (Node only).
 */
export async function findStudentOnnx(location: string): Promise<StudentOnnxFile | undefined> {
  if (!currentPlatform().fileSystem) return undefined;
  const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  const dir = localModelDir(location, path);
  if (dir === undefined) return undefined;
  const file = path.join(dir, STUDENT_ONNX_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch {
    return undefined;
  }
  const info = parseInfo(bytes);
  if (!info) return undefined;
  try {
    if ((await modelSourceHash(dir)) !== info.source) return undefined;
  } catch {
    return undefined;
  }
  return { bytes, info, path: file };
}
