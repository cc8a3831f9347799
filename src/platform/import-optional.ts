/**
 * Imports an optional package by name at run time. The specifier is a variable so that bundlers do not try to
 * resolve packages the user did not install.
 *
 * @example
 * ```ts
 * const webgl = await importOptional('@tensorflow/tfjs-backend-webgl'); // rejects when it is not installed
 * ```
 */
export async function importOptional<T = unknown>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as T;
}
