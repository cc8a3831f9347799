// Custom Keras layers of sharpen-kd. Importing this module registers them for (de)serialization.
export { PixelShuffle } from './pixel-shuffle';
export type { PixelShuffleArgs } from './pixel-shuffle';
export { PixelUnshuffle } from './pixel-unshuffle';
export type { PixelUnshuffleArgs } from './pixel-unshuffle';
export { AddUpsampledInput, upsampleInput } from './add-upsampled-input';
export type { AddUpsampledInputArgs, ResidualInterpolation } from './add-upsampled-input';
export { Rescale } from './rescale';
export type { RescaleArgs } from './rescale';
export { PadToMultiple, padAmount } from './pad-to-multiple';
export type { PadToMultipleArgs } from './pad-to-multiple';
export { CropToScaledInput } from './crop-to-scaled-input';
export type { CropToScaledInputArgs } from './crop-to-scaled-input';
export { RepConv2D, reparameterize } from './rep-conv';
export type { RepConv2DArgs } from './rep-conv';
export { ChannelShift } from './channel-shift';
export type { ChannelShiftArgs, ChannelShiftMode } from './channel-shift';
export { StripedWindowAttention } from './striped-window-attention';
export type { StripedWindowAttentionArgs } from './striped-window-attention';
