/**
 * Vite config of the browser demo. The page imports 'sharpen-kd' (and 'sharpen-kd/data') like an app would; in this
 * repo those names are aliased to the built library (`npm run build` first). The plugin below serves the model
 * folders at `/models/` (`models/<name>/model.json` + weights) with a `/models/index.json` listing of what is
 * present, in dev and preview, and copies them into the build output so that `dist/` can be deployed as is.
 * Set SHARPEN_KD_MODELS to serve another folder of models (the browser test does). Pages are served cross-origin
 * isolated (see `isolation` below) so that WebAssembly runs with threads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const here = import.meta.dirname;
const repo = path.resolve(here, '../..');

function modelsDir(): string {
  return path.resolve(process.env.SHARPEN_KD_MODELS ?? path.join(repo, 'models'));
}

/** Folders of `dir` holding a model.json, best first (x4, x2, x1, then the rest by name). */
function listModels(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const order = ['x4', 'x2', 'x1'];
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, 'model.json')))
    .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

function serveModels(): Plugin {
  const middleware = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/models\/(.*)$/.exec(url.pathname);
    if (!m) return next();
    const dir = modelsDir();
    if (m[1] === 'index.json') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ models: listModels(dir) }));
      return;
    }
    const file = path.resolve(dir, decodeURIComponent(m[1]));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    fs.createReadStream(file).pipe(res);
  };
  return {
    name: 'sharpen-kd-models',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
    generateBundle() {
      const dir = modelsDir();
      const models = listModels(dir);
      this.emitFile({ type: 'asset', fileName: 'models/index.json', source: JSON.stringify({ models }) });
      for (const name of models) {
        for (const f of fs.readdirSync(path.join(dir, name))) {
          this.emitFile({ type: 'asset', fileName: `models/${name}/${f}`, source: fs.readFileSync(path.join(dir, name, f)) });
        }
      }
    },
  };
}

/**
 * Cross-origin isolation (dev and preview): SharedArrayBuffer, and with it the worker threads of onnxruntime-web's and
 * tfjs-backend-wasm's WebAssembly, exists only on an isolated page. Everything the pages load is same-origin, which
 * `require-corp` allows.
 */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here,
  base: './',
  server: { headers: isolation },
  preview: { headers: isolation },
  // onnxruntime-web finds its .wasm/.mjs through ort.env.wasm.wasmPaths (set in engines.ts from `?url` imports);
  // pre-bundling it in dev would only move the module away from those files.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  resolve: {
    // 'sharpen-kd' -> dist/index.js, and each subpath entry ('sharpen-kd/data', …) -> its file (dist/data.js, …).
    alias: [
      { find: /^sharpen-kd$/, replacement: path.join(repo, 'dist/index.js') },
      { find: /^sharpen-kd\/(\w+)$/, replacement: path.join(repo, 'dist/$1.js') },
    ],
  },
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // Four pages: the upscaling demo, live video, training in the browser, and the engine benchmark.
      input: {
        index: path.join(here, 'index.html'),
        video: path.join(here, 'video.html'),
        train: path.join(here, 'train.html'),
        bench: path.join(here, 'bench.html'),
      },
      // Node-only code paths of the library (decoding with sharp, ONNX Runtime for Node) are never taken in a browser.
      external: ['sharp', 'onnxruntime-node'],
    },
  },
  plugins: [serveModels()],
});
