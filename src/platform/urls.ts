/** URLs as both platforms read them: fetching one into bytes, and joining a URL prefix with a relative path. */
import { InputError } from '../errors';

/**
 * Fetches a URL into bytes. `name` names the input in errors.
 *
 * @throws InputError when the request fails or answers with an HTTP error.
 * @example
 * ```ts
 * const bytes = await fetchBytes('https://example.com/photo.jpg', 'photo.jpg');
 * ```
 */
export async function fetchBytes(href: string, name: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(href);
  } catch (e) {
    throw new InputError(`cannot fetch (${(e as Error).message})`, { file: name, cause: e });
  }
  if (!res.ok) throw new InputError(`cannot fetch (HTTP ${res.status})`, { file: name });
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Joins a URL prefix (with or without a trailing slash) and a relative path with one `/`.
 *
 * @example
 * ```ts
 * joinUrl('/vendor/esrgan-slim/', 'models/x4/model.json'); // '/vendor/esrgan-slim/models/x4/model.json'
 * ```
 */
export function joinUrl(base: string, relative: string): string {
  return `${base.replace(/\/$/, '')}/${relative}`;
}
