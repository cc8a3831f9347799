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
/**
 * File name of the int8 graph beside a model's `model.json` (`precision: 'int8'`, built by `writeStudentOnnxInt8`):
 * the same graph with int8 weights and uint8 activations in ONNX's QDQ form.
 */
export const STUDENT_ONNX_INT8_FILE = 'model.int8.onnx';
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
  /**
   * An int8 graph ({@link STUDENT_ONNX_INT8_FILE}): how its activation ranges were calibrated (range method, number of
   * LR crops, the HR folders they came from by name), and whether its first layer stayed in float. Absent in a float
   * graph.
   */
  int8?: { method: string; images: number; folders: string[]; floatFirstLayer?: true };
}

/** A usable `model.onnx`: its bytes and what it records. */
export interface StudentOnnxFile {
  bytes: Uint8Array;
  info: StudentOnnxInfo;
  /** The file's path. */
  path: string;
}

/**
 * The folder of a model location, a folder or a `model.json` path or URL: a path for local ones (`file:` URLs too),
 * a URL ending in `/` for `http(s):` ones and, without a file system, for relative ones; undefined for other URLs
 * (`blob:`, `data:`).
 */
function modelFolder(location: string, path: typeof import('node:path') | undefined): string | undefined {
  if (/^https?:\/\//i.test(location)) return new URL(/\.json$/i.test(new URL(location).pathname) ? '.' : `${location.replace(/\/$/, '')}/`, location).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('file://')) return undefined;
  if (!path) return /\.json$/i.test(location) ? location.slice(0, location.lastIndexOf('/') + 1) || './' : `${location.replace(/\/$/, '')}/`; // a URL relative to the page
  const p = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
  return /\.json$/i.test(p) ? path.dirname(p) : p;
}

/**
 * @internal `sha256:<hex>` of a saved model folder (a path, or a URL ending in `/`): its `model.json` re-serialised
 * from the parsed JSON, then each weight file of its manifest in order, a zero byte before each. Hashed with WebCrypto
 * (`crypto.subtle`), which browsers give to secure contexts only (https, localhost).
 *
 * @throws Error when `model.json` or a weight file cannot be read or parsed, or there is no `crypto.subtle`.
 */
export async function modelSourceHash(dir: string): Promise<string> {
  const platform = currentPlatform();
  const read = async (file: string) => platform.readBytes(await platform.joinPath(dir, file), file);
  const json = JSON.parse(new TextDecoder().decode(await read('model.json'))) as { weightsManifest?: { paths?: string[] }[] };
  const parts: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(json))];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths ?? []) parts.push(new Uint8Array(1), await read(p));
  }
  const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    all.set(b, at);
    at += b.length;
  }
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('no crypto.subtle here (browsers give it to secure contexts only): cannot check model.onnx against its model');
  const digest = new Uint8Array(await subtle.digest('SHA-256', all));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
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
 * @internal The `model.onnx` beside a model (a local folder or `model.json` path, or an `http(s):` folder or
 * `model.json` URL, fetched), when there is one, it carries {@link StudentOnnxInfo}, and its source hash matches the
 * model files; otherwise undefined. `name` picks the int8 graph ({@link STUDENT_ONNX_INT8_FILE}) instead; each file
 * must be of its own kind.
 */
export async function findStudentOnnx(location: string, name: typeof STUDENT_ONNX_FILE | typeof STUDENT_ONNX_INT8_FILE = STUDENT_ONNX_FILE): Promise<StudentOnnxFile | undefined> {
  const platform = currentPlatform();
  const path = platform.fileSystem ? await import('node:path') : undefined;
  const dir = modelFolder(location, path);
  if (dir === undefined) return undefined;
  const file = await platform.joinPath(dir, name);
  let bytes: Uint8Array;
  try {
    bytes = await platform.readBytes(file, name);
  } catch {
    return undefined;
  }
  const info = parseInfo(bytes);
  if (!info || (info.int8 !== undefined) !== (name === STUDENT_ONNX_INT8_FILE)) return undefined;
  try {
    if ((await modelSourceHash(dir)) !== info.source) return undefined;
  } catch {
    return undefined;
  }
  return { bytes, info, path: file };
}
