/**
 * Models: the student and teacher architectures and their builders, the EMT teacher and its pretrained weights,
 * saving and loading models, PyTorch weights, the custom Keras layers, and tools that inspect, tap or grow a model.
 *
 * @example
 * ```ts
 * import { buildStudent, describeModel, growStudent, loadModel } from 'sharpen-kd/models';
 * const student = buildStudent({ arch: 'compact', scale: 4, width: 16, depth: 8 });
 * console.log(describeModel(student).params);
 * const bigger = await growStudent(await loadModel('models/x4'), { width: 32 });
 * ```
 *
 * @module sharpen-kd/models
 */
export { buildStudent, STUDENT_DEFAULTS } from '../models/student';
export type { StudentOptions, StudentArch } from '../models/student';
export type { Activation, PreluSlopes } from '../models/blocks';
export type { DetailKind } from '../models/compact';
export { growStudent } from '../models/grow';
export type { GrowOptions } from '../models/grow';
export { buildTeacher } from '../models/teacher';
export type { TeacherOptions } from '../models/teacher';
export { buildEmt } from '../models/emt';
export type { EmtOptions } from '../models/emt';
export { emtFromTorch } from '../models/emt-weights';
export { loadPretrainedTeacher, PRETRAINED_TEACHERS } from '../models/pretrained-teachers';
export type { PretrainedTeacherName, PretrainedTeacherOptions } from '../models/pretrained-teachers';
export { teacherFromModel } from '../models/teacher-from-model';
export type { TeacherFromModelOptions } from '../models/teacher-from-model';
export { BUILTIN_MODELS } from '../infer/registry';
export type { BuiltinModelName } from '../infer/registry';
export { saveModel, loadModel, modelToArtifacts } from '../io/model-io';
export type { SaveModelOptions, SaveModelResult, ModelSource, WeightQuantization } from '../io/model-io';
export { loadTorchWeights } from '../io/torch-weights';
export type { TorchTensor, TorchWeights } from '../io/torch-weights';
export { getModelInfo } from '../models/metadata';
export type { ModelInfo, ModelArch, Scale } from '../models/metadata';
export { describeModel } from '../models/describe';
export type { ModelDescription, LayerDescription, DescribeOptions } from '../models/describe';
export { receptiveField, UNKNOWN_LAYER_RADIUS } from '../infer/receptive-field';
export type { ReceptiveField } from '../infer/receptive-field';
export { tapModel, featureTaps } from '../models/taps';
export { PixelShuffle, PixelUnshuffle, AddUpsampledInput, upsampleInput, Rescale, PadToMultiple, CropToScaledInput, RepConv2D, reparameterize, GlobalGate } from '../models/layers/index';
export type {
  PixelShuffleArgs,
  PixelUnshuffleArgs,
  AddUpsampledInputArgs,
  ResidualInterpolation,
  RescaleArgs,
  PadToMultipleArgs,
  CropToScaledInputArgs,
  RepConv2DArgs,
  GlobalGateArgs,
} from '../models/layers/index';
export { GraphModelLayer } from '../models/layers/graph-model-layer';
export type { GraphModelLike, GraphModelLayerArgs } from '../models/layers/graph-model-layer';
