/**
 * Argument parsing shared by the scripts that score one model folder (`eval-self-ensemble.ts`, `eval-pretrained.ts`):
 * `<model dir> [--scale 4] [--data <HR folder>]` plus script-specific `--name value` flags.
 */
import type { Scale } from '../../src/models/metadata';

/** The model folder, scale and HR folder from argv; exits with `usage` when the folder is missing. */
export function modelArgs(usage: string): { dir: string; scale: Scale; data: string; flag: (name: string, fallback: string) => string } {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const dir = args[0];
  if (!dir || dir.startsWith('--')) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  const scale = Number(flag('--scale', '4')) as Scale;
  const data = flag('--data', `${process.env.SHARPEN_KD_DATA ?? '../shared/data'}/Set5/HR`);
  return { dir, scale, data, flag };
}
