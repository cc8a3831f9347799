/**
 * Registers TF.js's gradient functions. tfjs-core registers none by itself; `@tensorflow/tfjs-layers` does as a side
 * effect, in every build (its Node bundle contains them, its ESM entry imports tfjs-core's `register_all_gradients`,
 * which bundlers resolve). Imported for its side effect by every module that computes gradients.
 */
import '@tensorflow/tfjs-layers';
