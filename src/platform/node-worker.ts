/**
 * Worker threads that run one of the package's own modules (Node only): the data worker of `openDatasetInWorker` and
 * the gradient workers of data-parallel training. The module is found next to the module that starts it: `.ts` from
 * the sources (tests, the lab: the worker registers tsx's loader first, since a worker does not inherit it), `.js` /
 * `.cjs` when built (tsup emits every worker as an entry beside the chunks).
 */
import type { Worker } from 'node:worker_threads';

/** The file of worker module `name` next to `callerUrl`, and tsx's loader when running from the sources. */
async function workerEntry(name: string, callerUrl: string): Promise<{ entry: string; tsx?: string }> {
  const ext = /\.[cm]?ts(\?.*)?$/.test(callerUrl) ? '.ts' : callerUrl.endsWith('.cjs') ? '.cjs' : '.js';
  const entry = new URL(`./${name}${ext}`, callerUrl).href;
  if (ext !== '.ts') return { entry };
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const req = createRequire(callerUrl);
  const pkgFile = req.resolve('tsx/package.json');
  type Target = string | { default?: Target; import?: Target } | undefined;
  const pkg = req(pkgFile) as { exports: Record<string, Target> };
  const pick = (t: Target): string | undefined => (typeof t === 'string' || t === undefined ? t : pick(t.import ?? t.default));
  const rel = pick(pkg.exports['./esm/api']);
  if (!rel) throw new Error(`tsx has no ESM API entry: cannot run the worker ${name} from the sources`);
  return { entry, tsx: pathToFileURL(path.join(path.dirname(pkgFile), rel)).href };
}

// Node runs an eval'ed worker script with `__filename` and `__dirname` as globals ('[worker eval]'); modules that ask
// `typeof __filename` to find their own file would take them, so they go before the worker module loads.
const BOOT = `
const { workerData } = require('node:worker_threads');
delete globalThis.__filename;
delete globalThis.__dirname;
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

/**
 * @internal Starts the worker module `name` (for example `'dataset-worker'`) that sits beside the module at
 * `callerUrl` (its `import.meta.url`). Rejects where there are no worker threads (browsers).
 */
export async function startModuleWorker(name: string, callerUrl: string): Promise<Worker> {
  const { Worker } = await import('node:worker_threads');
  const { entry, tsx } = await workerEntry(name, callerUrl);
  return new Worker(BOOT, { eval: true, workerData: { entry, tsx } });
}
