import type { Command } from 'commander';
import { INFERENCE_BACKENDS, type InferenceBackend } from '../infer/engine';
import { sharpenVideo } from '../video/sharpen-video';
import type { RegisterCommand } from './run-command';
import { ProgressBar } from './progress-bar';
import { runCommand, signalFromProcess } from './run-command';
import { backendOption, intOption, numberOption, onOffOption } from './options';
import { INT8_HELP } from './sharpen';

interface VideoCliOptions {
  out: string;
  scale?: number;
  model?: string;
  backend?: InferenceBackend;
  tile?: number;
  threads?: number;
  spinning?: boolean;
  int8?: boolean;
  codec?: string;
  crf?: number;
  preset?: string;
  pixFmt?: string;
  audio: boolean;
  overwrite?: boolean;
  ffmpeg?: string;
  temporal?: number;
  temporalNoise?: number;
}

/** `sharpen-kd video <input> -o <out> [--scale N] [--model m] [--codec c] [--crf n] [--preset p] [--pix-fmt f]` */
export const registerVideo: RegisterCommand = (program: Command) => {
  program
    .command('video')
    .description('sharpen / upscale a video frame by frame with a student model, streaming through ffmpeg (audio and metadata copied)')
    .argument('<input>', 'video file (anything your ffmpeg reads)')
    .requiredOption('-o, --out <file>', 'output video: .mp4, .mkv, .mov, .m4v, .avi or .webm')
    .option('-s, --scale <n>', 'upscaling factor 1, 2 or 4; picks the shipped model x1/x2/x4 (default 4)', intOption('--scale', 1, 4))
    .option('-m, --model <name|path>', 'x1, x2, x2-fast, x4, x4-plus, bicubic, or a saved model folder / model.json')
    .option('-b, --backend <name>', `inference engine: ${INFERENCE_BACKENDS.join(', ')} (default auto: onnx if installed, else wasm)`, backendOption)
    .option('-t, --tile <n>', 'tile size in input pixels for large frames (default: chosen from the model)', intOption('--tile', 16))
    .option('--threads <n>', 'threads for ONNX Runtime / wasm', intOption('--threads', 1))
    .option('--spinning <on|off>', 'ONNX Runtime worker threads spin between ops: off by default here (ffmpeg shares the cores), on, or from SHARPEN_KD_ORT_SPINNING', onOffOption('--spinning'))
    .option('--int8', INT8_HELP)
    .option('-c, --codec <name>', 'video encoder (default libx264; libvpx-vp9 for .webm)')
    .option('--crf <n>', 'constant quality, lower is better (default 18 for libx264/libx265, 31 for libvpx-vp9)', numberOption('--crf', 0))
    .option('--preset <name>', 'encoder speed preset, e.g. ultrafast ... veryslow for libx264 (default veryfast)')
    .option('--pix-fmt <name>', 'pixel format of the encoded video (default yuv420p)')
    .option('--no-audio', 'drop the audio instead of copying it')
    .option('--overwrite', 'replace an existing output, even the input')
    .option('--temporal <0..0.95>', 'strength of the temporal filter that removes the flicker of noise on static content; 0 turns it off (default 0.5)', numberOption('--temporal', 0, 0.95))
    .option('--temporal-noise <levels>', "the input's noise level for the temporal filter, σ in 8-bit levels (default: estimated from the frames)", numberOption('--temporal-noise', 0))
    .option('--ffmpeg <path>', 'ffmpeg binary (default $SHARPEN_KD_FFMPEG, else ffmpeg on PATH, else @ffmpeg-installer/ffmpeg)')
    .addHelpText(
      'after',
      [
        '',
        'Needs ffmpeg: `apt-get install ffmpeg` (or brew, ...) or `npm install @ffmpeg-installer/ffmpeg`.',
        'Decoding, the model and encoding run at the same time with a few frames in flight, so memory',
        'stays flat whatever the length. The output is written to a hidden temporary file beside it',
        'and renamed when complete; Ctrl-C deletes it and leaves an existing output untouched.',
        'A temporal filter (--temporal, default 0.5) averages the output over frames where the input',
        'holds still, so the sharpened noise does not flicker; moving content and scene cuts pass through.',
      ].join('\n'),
    )
    .action(
      runCommand(async (input: string, o: VideoCliOptions) => {
        const signal = signalFromProcess();
        // A second Ctrl-C forces the exit through process.exit, whose hook stops ffmpeg and deletes the temporary
        // file (a signal's default action would kill this process with no cleanup at all).
        let signals = 0;
        const force = (): void => {
          if (++signals >= 2) process.exit(130);
        };
        process.on('SIGINT', force);
        process.on('SIGTERM', force);
        // Created at the first frame, so that its rate and ETA leave out loading the model.
        let bar: ProgressBar | undefined;
        try {
          const r = await sharpenVideo(input, o.out, {
            scale: o.scale,
            model: o.model,
            backend: o.backend,
            tile: o.tile,
            threads: o.threads,
            spinning: o.spinning,
            precision: o.int8 ? 'int8' : undefined,
            codec: o.codec,
            crf: o.crf,
            preset: o.preset,
            pixelFormat: o.pixFmt,
            audio: o.audio,
            overwrite: o.overwrite,
            ffmpegPath: o.ffmpeg,
            temporal: o.temporal,
            temporalNoise: o.temporalNoise,
            signal,
            onProgress: (p) => {
              if (!bar) {
                process.stderr.write(`sharpen-kd: ${input} -> ${o.out}\n`);
                bar = new ProgressBar('video');
              }
              bar.update(p);
            },
          });
          bar?.finish();
          const i = r.input;
          process.stderr.write(
            `sharpen-kd: ${r.frames} frames ${i.width}x${i.height} -> ${r.width}x${r.height} at ${i.rate} fps with ${r.model} on ${r.backend}${o.int8 ? ' (int8)' : ''}, ` +
              `${r.codec}${r.audio ? ` + ${i.audioCodec} audio copied` : ''}${r.temporal.strength > 0 ? `, temporal filter ${r.temporal.strength}` : ''}: ${r.seconds.toFixed(1)} s, ${r.fps.toFixed(1)} fps end to end\n`,
          );
        } finally {
          bar?.finish();
          process.off('SIGINT', force);
          process.off('SIGTERM', force);
        }
      }),
    );
};
