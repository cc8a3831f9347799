/**
 * The platform in use: Node's when running under Node.js, the browser's elsewhere, decided on first use. This is
 * the one place that looks at the environment; an entry point or a test may choose another with {@link setPlatform}.
 */
import { browserPlatform } from './browser';
import { nodePlatform } from './node';
import type { Platform } from './platform';

let chosen: Platform | undefined;

/** True under Node.js (not a browser or a web worker). */
function runsOnNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * The platform in use: the one given to {@link setPlatform}, else the environment's (picked once).
 *
 * @example
 * ```ts
 * if (currentPlatform().fileSystem) await saveModel(model, 'out/x4');
 * ```
 */
export function currentPlatform(): Platform {
  chosen ??= runsOnNode() ? nodePlatform : browserPlatform;
  return chosen;
}

/**
 * Chooses the platform the library uses from now on; `undefined` goes back to the environment's. Returns the one in
 * use before, so that a caller can put it back.
 *
 * @example
 * ```ts
 * const before = setPlatform(browserPlatform);
 * try {
 *   await Student.load('x4', { modelBaseUrl: 'https://cdn.example/sharpen-kd/models/' });
 * } finally {
 *   setPlatform(before);
 * }
 * ```
 */
export function setPlatform(platform: Platform | undefined): Platform {
  const before = currentPlatform();
  chosen = platform;
  return before;
}
