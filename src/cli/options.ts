/**
 * The CLI's option parsers, shared by every command: each turns a flag's text into a value or throws commander's
 * `InvalidArgumentError` with one line that names the flag, what it takes and what it got.
 */
import { InvalidArgumentError } from 'commander';
import { INFERENCE_BACKENDS, type InferenceBackend } from '../infer/engine';
import { BUILTIN_SCALES } from '../infer/registry';
import { PRETRAINED_TEACHERS } from '../models/pretrained-names';

/**
 * The names `--teacher` and `--feature-teacher` (a run config's `teacher.model` and `teacher.featureModel`) take
 * besides paths: the pretrained teachers, the shipped students (teaching assistants) and `resnet` (untrained).
 */
export const TEACHER_NAMES: readonly string[] = [...PRETRAINED_TEACHERS, ...Object.keys(BUILTIN_SCALES), 'resnet'];

/** `a, b or c`. */
export const orList = (values: readonly string[]): string =>
  values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

const range = (min: number, max: number, lowOpen = false) =>
  lowOpen ? `in (${min}, ${max}]` : max < Infinity ? `from ${min} to ${max}` : `from ${min}`;

/** An integer flag in `[min, max]`, e.g. `intOption('--tile', 16)`. */
export function intOption(name: string, min: number, max = Infinity): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${range(min, max)}, got "${v}"`);
    return n;
  };
}

/** A number flag in `[min, max]`, or `(min, max]` with `lowOpen`, e.g. `numberOption('--strength', 0, 1)`. */
export function numberOption(name: string, min: number, max = Infinity, lowOpen = false): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (lowOpen ? n <= min : n < min) || n > max) {
      throw new InvalidArgumentError(`${name} must be a number ${range(min, max, lowOpen)}, got "${v}"`);
    }
    return n;
  };
}

/** A flag that takes one of `values`, e.g. `choiceOption('--protocol', ['blind', 'gaussian'])`. */
export function choiceOption<T extends string>(name: string, values: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} takes ${orList(values)}, got "${v}"`);
    return v as T;
  };
}

/** An on/off flag (`on`, `off`, also `true`/`false`, `1`/`0`). */
export function onOffOption(name: string): (v: string) => boolean {
  return (v: string) => {
    const s = v.trim().toLowerCase();
    if (s === 'on' || s === 'true' || s === '1') return true;
    if (s === 'off' || s === 'false' || s === '0') return false;
    throw new InvalidArgumentError(`${name} takes on or off, got "${v}"`);
  };
}

/** `WIDTHxHEIGHT`, e.g. `1280x720`. */
export function sizeOption(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`expected WIDTHxHEIGHT, e.g. 1280x720, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

/** `--backend`: one of the inference engines. */
export const backendOption: (v: string) => InferenceBackend = choiceOption('--backend', INFERENCE_BACKENDS);
