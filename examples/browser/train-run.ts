/**
 * The run the training page does, shared with the browser test, which repeats it in Node and compares the loss
 * curves: a compact ×2 student (8 channels, 2 body convs, re-parameterized) on seeded procedural patches.
 */
import type { StudentOptions, SyntheticOptions, TrainScheduleOptions } from 'sharpen-kd';

export const BROWSER_TRAINING_RUN = {
  student: { arch: 'compact', scale: 2, width: 8, depth: 2, reparam: true, seed: 7 } satisfies StudentOptions,
  data: { scale: 2, patchSize: 16, batchSize: 4, images: 8, imageSize: 96, seed: 7 } satisfies SyntheticOptions,
  /** The `schedule` of `train`, less `steps` (the page and the test choose it). */
  schedule: { lr: 2e-3, warmup: 5, clip: 1 } satisfies Omit<TrainScheduleOptions, 'steps'>,
} as const;
