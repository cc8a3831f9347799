/** True when running under Node.js (not a browser or a web worker). */
export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * Imports an optional package by name at run time. The specifier is a variable so that bundlers do not
 * try to resolve packages the user did not install.
 */
export async function importOptional<T = unknown>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as T;
}
