/**
 * Sharpening strength: a blend of the model's output with the plain version of the input, per tile.
 *
 *     out = base + strength · (model(in) − base),   base = in (×1) or bicubic(in) (×s > 1)
 *
 * Blending per tile is the same as blending the whole image: the tile engine's weights are a partition of unity and
 * both terms are linear in them. Strength 0 skips the model (the output is `base`: the input itself at ×1), strength
 * 1 is the model alone.
 */
import { ConfigError } from '../errors';
import { interleave } from './pixels';
import { bicubicRunner } from './runners';
import type { TileRunner } from './tile-engine';

/**
 * Validates a sharpening strength (default 1) and returns it.
 *
 * @throws ConfigError unless it is a finite number from 0 to 1.
 * @example
 * ```ts
 * checkStrength(0.5); // 0.5
 * checkStrength(undefined); // 1
 * ```
 */
export function checkStrength(strength: number | undefined): number {
  if (strength === undefined) return 1;
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength < 0 || strength > 1) {
    throw new ConfigError(`strength must be a number from 0 to 1, got ${String(strength)}`);
  }
  return strength;
}

/**
 * A tile runner that blends `model`'s output with the bicubic upscale of its input (the input itself at ×1) by
 * `strength`: `model` itself at 1, bicubic alone (the model is not run) at 0.
 *
 * @example
 * ```ts
 * const half = strengthRunner(runner, 0.5);
 * ```
 */
export function strengthRunner(model: TileRunner, strength: number): TileRunner {
  checkStrength(strength);
  if (strength === 1) return model;
  const base = bicubicRunner(model.scale);
  if (strength === 0) return base;
  const planar = model.layout === 'nchw';
  const s = model.scale;
  return {
    scale: s,
    channels: model.channels,
    layout: model.layout,
    async run(tile, height, width, channels) {
      // Bicubic takes HWC: planar colour tiles go through it interleaved (at scale 1 it is the identity either way).
      const viaHwc = planar && channels === 3 && s > 1;
      const b0 = await base.run(viaHwc ? interleave(tile, height * width) : tile, height, width, channels);
      const b = viaHwc ? interleave(b0, height * width * s * s, true) : b0;
      const m = await model.run(tile, height, width, channels, { transient: true });
      const out = new Float32Array(m.length);
      for (let i = 0; i < m.length; i++) out[i] = b[i] + strength * (m[i] - b[i]);
      return out;
    },
    dispose() {
      base.dispose();
    },
  };
}
