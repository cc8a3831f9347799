/**
 * What differs between the platforms sharpen-kd runs on, Node and browsers: how files and URLs become bytes, how
 * images are decoded and encoded, where the wasm binaries are, which engine `'auto'` tries first, how optional
 * packages are loaded. `nodePlatform` (`./node.ts`) and `browserPlatform` (`./browser.ts`) implement it;
 * `currentPlatform()` (`./current.ts`) gives the one in use. The rest of the library asks that object rather than
 * testing the environment itself.
 */
import type { AnimationInfo, DecodeOptions, EncodeOptions } from '../io/node-image';
import type { ImageFormat, RawImage } from '../io/raw-image';
import type { WorkerSession } from '../backends/onnx-worker';

/**
 * An image decoded by {@link Platform.decodeImage}. Where the platform's decoder reads more than the pixels
 * (sharp in Node), the ICC profile, the detected format and the frames of an animation come with them.
 *
 * @example
 * ```ts
 * const { image, icc, format }: PlatformImage = await currentPlatform().decodeImage(bytes, 'photo.jpg');
 * ```
 */
export interface PlatformImage {
  image: RawImage;
  /** The embedded ICC profile, if the decoder keeps it. */
  icc?: Uint8Array;
  /** Format detected by the decoder (`png`, `jpeg`, `webp`, ...), where it tells. */
  format?: string;
  /** Every frame of an animated GIF / WebP, stacked top to bottom in `image` (asked for with `frames: 'all'`). */
  animation?: AnimationInfo;
}

/**
 * One platform's answers to what differs between Node and browsers.
 *
 * @example
 * ```ts
 * const platform: Platform = currentPlatform();
 * const bytes = await platform.readBytes('photo.jpg', 'photo.jpg'); // a file in Node, a URL relative to the page in browsers
 * ```
 */
export interface Platform {
  /**
   * True where a path that is not a URL names a file this code can read and write (Node); false where it is a URL
   * relative to the page and nothing is written to disk (browsers).
   */
  readonly fileSystem: boolean;
  /**
   * The engine `'auto'` tries first: ONNX Runtime in Node (when installed); in browsers ONNX Runtime once the app has
   * provided onnxruntime-web (`provideOnnxRuntime`), TF.js otherwise.
   */
  readonly autoEngine: 'onnx' | 'tfjs';
  /** The ONNX Runtime package of this platform (an optional peer dependency). */
  readonly onnxRuntime: 'onnxruntime-node' | 'onnxruntime-web';
  /**
   * True where the shipped `model.onnx` graphs suit this platform's ONNX Runtime: they are exported for its CPU
   * provider (`target: 'ort-cpu'`, PReLU as depthwise conv + Relu + Add), right for onnxruntime-node. onnxruntime-web's
   * wasm runs that graph about 2.6× slower than the plain one (×4 at 1280×720 output: 604 against 232 ms per frame in
   * headless Chromium on a loaded 2-core machine), so browsers convert the model to the plain graph instead.
   */
  readonly shippedOnnxGraphs: boolean;
  /**
   * ONNX Runtime execution providers to try when none is asked for, best first; each is tried on its own and the first
   * whose session loads runs the model. Node: `['cpu']`. Browsers: `['webgpu', 'wasm']` where `navigator.gpu` gives an
   * adapter, else `['wasm']`.
   */
  onnxProviders(): Promise<string[]>;
  /**
   * Sets up an imported ONNX Runtime module before it creates a session. Browsers: onnxruntime-web's wasm threads
   * (`ort.env.wasm.numThreads`, read once, at its first session): `threads` when given, else, when the app has not set
   * it, `navigator.hardwareConcurrency` on a cross-origin isolated page and 1 elsewhere (threads need
   * SharedArrayBuffer). Node: nothing (threads are a session option there).
   */
  configureOnnxRuntime(ort: unknown, threads: number | undefined): void;
  /** The TF.js backend set up when none is active yet (`'wasm'` in Node); undefined: TF.js's own default. */
  readonly defaultTfBackend: 'wasm' | undefined;
  /**
   * True where tfjs-backend-wasm turns its threads off and `useBackend('wasm', { threads })` turns them on itself
   * (Node; see `backends/wasm-threads.ts`).
   */
  readonly wasmThreadsPatch: boolean;
  /** True where images are decoded and encoded with sharp (libvips), whose resize benchmarks time as a reference. */
  readonly sharp: boolean;
  /** An environment variable, or undefined (always undefined in browsers). */
  env(name: string): string | undefined;
  /**
   * Reads a file or URL into bytes. `name` names the input in errors.
   *
   * @throws InputError when the file cannot be read or the URL fetched.
   */
  readBytes(input: string | URL, name: string): Promise<Uint8Array>;
  /** Joins a base folder or URL prefix with a relative path (`/`-separated). */
  joinPath(base: string, relative: string): Promise<string>;
  /** True when a file or folder exists at `path` (always false without a file system). */
  pathExists(path: string): Promise<boolean>;
  /**
   * Decodes encoded image bytes, refusing images over `opts.maxPixels`. `opts.frames` and `opts.onHeader` are
   * honoured where the decoder reads the header first (sharp).
   *
   * @throws InputError for empty, undecodable or too large images.
   */
  decodeImage(bytes: Uint8Array, name: string, opts?: DecodeOptions): Promise<PlatformImage>;
  /** Encodes an image as PNG, JPEG or WebP (ICC profile and animation kept where the encoder can). */
  encodeImage(image: RawImage, format: ImageFormat, opts?: EncodeOptions): Promise<Uint8Array>;
  /** Folder or URL prefix of tfjs-backend-wasm's `.wasm` files, or undefined to let TF.js find them. */
  wasmPaths(): Promise<string | undefined>;
  /** Imports an optional package by name at run time (in Node through `require` first). */
  loadPackage<T = unknown>(name: string): Promise<T>;
  /**
   * Node: an onnxruntime-node session of `model` (with `InferenceSession.create`'s `options`) living on a worker
   * thread, so that running it leaves the event loop free (`backends/onnx-worker.ts`). Absent in browsers, where
   * onnxruntime-web has its own proxy worker (`ort.env.wasm.proxy`).
   */
  offThreadOnnxSession?(model: Uint8Array, options: Record<string, unknown>): Promise<WorkerSession>;
  /** CPU time of this process in ms where it can be read, else wall time in ms (`performance.now()`). */
  cpuTimeMs(): number;
}
