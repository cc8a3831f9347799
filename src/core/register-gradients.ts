/**
 * Registers TF.js's gradient functions (tfjs-core registers none by itself; the `@tensorflow/tfjs` union package
 * normally does it). Imported for its side effect by every module that trains.
 *
 * tfjs-core ships the registrations only as extension-less ESM (`dist/register_all_gradients.js`), which plain Node
 * cannot load, so tsup bundles that file into sharpen-kd's dist. The bundled copy registers into the same global
 * engine and gradient registry as the user's `@tensorflow/tfjs-core`.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
