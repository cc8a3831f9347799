import { IoError } from '../errors';

/**
 * Writes a file atomically: the bytes go to a temporary file in the same folder, which is then renamed
 * over the target. A crash or abort never leaves a partial file and never clobbers the previous one.
 * Node only.
 *
 * @example
 * ```ts
 * await writeFileAtomic('out/photo.png', pngBytes);
 * ```
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true });
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new IoError(`cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}
