/**
 * Node file IO for models without tfjs-node: reads and writes the TF.js layers-model format
 * (`model.json` + one weights file) with `node:fs`. Writes are atomic ({@link writeFileAtomic}).
 * Also reads PyTorch weight files from a path ({@link readTorchWeights}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, IoError, ModelError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { loadTorchWeights, type TorchWeights } from './torch-weights';

/** Default file names inside a model folder. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** @internal Resolves a folder or a `.json` path to the model.json path. */
export async function resolveModelJsonPath(p: string): Promise<string> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const st = await fs.stat(p).catch((e: NodeJS.ErrnoException) => {
    throw new ModelError(`cannot read model at ${p}: ${e.code === 'ENOENT' ? 'no such file or folder (give a folder holding model.json, or the path of model.json)' : e.message}`, { cause: e });
  });
  return st.isDirectory() ? path.join(p, MODEL_JSON) : p;
}

/** @internal Reads model.json and its weight files into in-memory artifacts. */
export async function readModelArtifacts(p: string): Promise<tf.io.ModelArtifacts> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const jsonPath = await resolveModelJsonPath(p);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new ModelError(`cannot read ${jsonPath}: ${(e as Error).message}`, { cause: e });
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (e) {
    throw new ModelError(`${jsonPath} is not valid JSON (${(e as Error).message}); is it a TF.js model.json?`, { cause: e });
  }
  if (!json || typeof json !== 'object' || json.modelTopology == null) {
    throw new ModelError(`${jsonPath} has no modelTopology: not a TF.js model.json`);
  }
  const dir = path.dirname(jsonPath);
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Uint8Array[] = [];
    for (const group of manifest) {
      for (const rel of group.paths) {
        const file = path.join(dir, decodeURIComponent(rel));
        try {
          buffers.push(await fs.readFile(file));
        } catch (e) {
          throw new ModelError(`cannot read weights file ${file} listed in ${jsonPath}: ${(e as Error).message}`, { cause: e });
        }
      }
      specs.push(...group.weights);
    }
    const total = buffers.reduce((a, b) => a + b.length, 0);
    const expected = specs.reduce((a, s) => a + weightBytes(s), 0);
    if (total !== expected) {
      throw new ModelError(`weights of ${jsonPath} are ${total} bytes but the manifest describes ${expected}: the files are truncated or do not belong together`);
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const b of buffers) {
      all.set(b, o);
      o += b.length;
    }
    return [specs, all.buffer];
  });
}

/** @internal Byte size of one weight as stored. */
export function weightBytes(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const q = s.quantization?.dtype;
  const per = q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : s.dtype === 'bool' ? 1 : 4;
  return n * per;
}

/** @internal Writes artifacts as `dir/model.json` + `dir/weights.bin` (weights first, then the JSON). */
export async function writeModelArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<{ modelPath: string; weightsPath: string; bytes: number }> {
  const path = await import('node:path');
  const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'sharpen-kd',
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  const modelPath = path.join(dir, MODEL_JSON);
  const weightsPath = path.join(dir, WEIGHTS_BIN);
  try {
    await writeFileAtomic(weightsPath, new Uint8Array(weights));
    await writeFileAtomic(modelPath, JSON.stringify(json));
  } catch (e) {
    throw e instanceof IoError ? e : new IoError(`cannot save model to ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return { modelPath, weightsPath, bytes: weights.byteLength };
}

/**
 * @internal Reads a whole file: a missing one is an {@link InputError} with `notFound` (what to give instead), any
 * other failure an {@link IoError}.
 */
export async function readWholeFile(file: string, notFound: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(notFound, { file, cause: e });
    throw new IoError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * @internal Reads a PyTorch `.pth` / `.pt` or `.safetensors` file from a path with {@link loadTorchWeights};
 * errors name the file.
 */
export async function readTorchWeights(file: string, options?: { key?: string }): Promise<TorchWeights> {
  const bytes = await readWholeFile(file, 'no such file; give the path of a .pth, .pt or .safetensors file');
  try {
    return loadTorchWeights(bytes, options);
  } catch (e) {
    if (e instanceof InputError && e.file === undefined) throw new InputError(e.message, { file, cause: e });
    if (e instanceof ModelError) throw new ModelError(`${file}: ${e.message}`, { cause: e });
    throw e;
  }
}
