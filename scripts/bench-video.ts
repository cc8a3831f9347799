/**
 * `sharpen-kd video` end to end: frames per second on a short clip, and the peak memory of a long one.
 *
 *   npm run bench:video                              # 120 frames 320x180 -> 1280x720 (x4), then a 2-minute clip
 *   npx tsx scripts/bench-video.ts --frames 120 --long 120 --scale 4 [--rate 24] [--built] [--json] [-- <CLI flags>]
 *
 * Both clips are generated first with ffmpeg (testsrc2, moving, with a sine audio track, H.264): `--frames` frames
 * for the speed run and `--long` seconds for the memory run, at `--rate` fps. Each run is the real command in its
 * own process (`node --import tsx src/cli/main.ts video ...`, or `node dist/cli.js` with `--built`), with the CLI's
 * defaults (libx264 veryfast, CRF 18, audio copied) plus any flags after `--`. Reported:
 *   - fps: frames / wall time of the pipeline (the CLI's "fps end to end": ffmpeg start to the final rename; model
 *     loading excluded), and frames / wall time of the whole process (start-up and model loading included);
 *   - CPU: user + system time of the CLI and its ffmpeg processes per frame (start-up included; the shell's `times`),
 *     which depends less on what else runs than the fps does (cores / this = the fps of a perfect overlap);
 *   - memory: the resident set size (VmRSS in /proc) of the CLI process, and of it plus its ffmpeg children, sampled
 *     every 250 ms; the peak of each, and the CLI's RSS at each tenth of the run, to show whether it stays flat.
 * Linux only (reads /proc). The fps is a property of the machine and of what else runs on it: note the load.
 */
import { spawn } from 'node:child_process';
import { GLIBC_MALLOC_TUNABLES } from '../src/cli/malloc-tuning';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import path from 'node:path';
import { findFfmpeg, runFfmpeg } from '../src/video/ffmpeg';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const args = sep >= 0 ? argv.slice(0, sep) : argv;
const cliExtra = sep >= 0 ? argv.slice(sep + 1) : [];
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const frames = Number(flag('--frames', '120'));
const longSeconds = Number(flag('--long', '120'));
const rate = Number(flag('--rate', '24'));
const scale = flag('--scale', '4');
const built = args.includes('--built');
const json = args.includes('--json');
const W = 320;
const H = 180;

const ffmpeg = await findFfmpeg();
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skd-bench-video-'));

async function makeClip(file: string, seconds: number): Promise<void> {
  const r = await runFfmpeg(ffmpeg.path, [
    '-hide_banner', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${rate}:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file,
  ]);
  if (r.code !== 0) throw new Error(`cannot generate ${file}: ${r.stderr}`);
}

function rssKb(status: string): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) : 0;
}

/** RSS (kB) of a process and of its children (ffmpeg), or undefined once it is gone. */
async function sample(pid: number): Promise<{ self: number; children: number } | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (!status) return undefined;
  const kids = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  let children = 0;
  for (const k of kids) children += rssKb(await fs.readFile(`/proc/${k}/status`, 'utf8').catch(() => ''));
  const self = rssKb(status);
  return self > 0 ? { self, children } : undefined; // 0: exiting (a zombie has no memory left)
}

interface RunResult {
  label: string;
  frames: number;
  pipelineFps: number;
  processFps: number;
  seconds: number;
  /** CPU time (user + system) of the CLI and its ffmpeg processes, start-up included, per frame. */
  cpuMsPerFrame: number;
  peakSelfMb: number;
  peakTotalMb: number;
  /** CLI RSS (MB) at 10%, 20%, ... 100% of the run. */
  profileMb: number[];
  line: string;
}

async function run(label: string, input: string): Promise<RunResult> {
  const out = path.join(dir, `${path.basename(input, '.mp4')}-x${scale}.mp4`);
  const cli = built ? [path.join(root, 'dist/cli.js')] : ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
  const t0 = performance.now();
  // Under a shell whose `times` then prints the CPU time of its children: the CLI and the ffmpeg processes it reaped.
  const script = '"$0" "$@"; code=$?; echo "cpu-times:"; times; exit $code';
  // The malloc thresholds the CLI would set for itself in a child process (src/cli/malloc-tuning.ts), set here so that
  // the process measured is the one that does the work.
  const shell = spawn('/bin/sh', ['-c', script, process.execPath, ...cli, 'video', input, '-o', out, '--scale', scale, '--overwrite', ...cliExtra], {
    cwd: root,
    env: { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES, ...process.env, FORCE_COLOR: '0' },
  });
  let stderr = '';
  let stdout = '';
  shell.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  shell.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const samples: { t: number; self: number; children: number }[] = [];
  let cliPid: number | undefined;
  const timer = setInterval(() => {
    void (async () => {
      cliPid ??= Number((await fs.readFile(`/proc/${shell.pid}/task/${shell.pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/)[0]) || undefined;
      const s = cliPid ? await sample(cliPid) : undefined;
      if (s) samples.push({ t: performance.now() - t0, ...s });
    })();
  }, 250);
  const code = await new Promise<number | null>((resolve) => shell.once('close', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`sharpen-kd video failed (${code}):\n${stderr}`);
  const line = stderr.trim().split('\n').filter((l) => /fps end to end/.test(l)).pop() ?? '';
  const m = /: (\d+) frames .*: ([\d.]+) s, ([\d.]+) fps end to end/.exec(line);
  if (!m) throw new Error(`no summary line in:\n${stderr}`);
  const n = Number(m[1]);
  // `times`: the shell's own user/sys, then its children's (e.g. "1m2.50s 0m3.10s").
  const times = /cpu-times:\s*\S+ \S+\s+(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(stdout);
  const cpuSeconds = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN;
  const end = samples.at(-1)?.t ?? seconds * 1000;
  const profileMb = Array.from({ length: 10 }, (_, i) => {
    const at = ((i + 1) / 10) * end;
    const s = samples.reduce((best, x) => (Math.abs(x.t - at) < Math.abs(best.t - at) ? x : best), samples[0]);
    return s ? s.self / 1024 : NaN;
  });
  return {
    label,
    frames: n,
    pipelineFps: Number(m[3]),
    processFps: n / seconds,
    seconds,
    cpuMsPerFrame: (1000 * cpuSeconds) / n,
    peakSelfMb: Math.max(...samples.map((s) => s.self)) / 1024,
    peakTotalMb: Math.max(...samples.map((s) => s.self + s.children)) / 1024,
    profileMb,
    line: line.replace(/^sharpen-kd: /, ''),
  };
}

try {
  const short = path.join(dir, 'short.mp4');
  const long = path.join(dir, 'long.mp4');
  await makeClip(short, frames / rate);
  const results = [await run(`${frames} frames`, short)];
  if (longSeconds > 0) {
    await makeClip(long, longSeconds);
    results.push(await run(`${longSeconds} s (${Math.round(longSeconds * rate)} frames)`, long));
  }
  const load = os.loadavg().map((v) => v.toFixed(1)).join(' ');
  if (json) {
    console.log(JSON.stringify({ ffmpeg: ffmpeg.version, cores: os.cpus().length, loadavg: load, results }, null, 2));
  } else {
    console.log(`\nsharpen-kd video, ${W}x${H} -> x${scale}, ${rate} fps clips, ${built ? 'dist/cli.js' : 'src via tsx'}, ${ffmpeg.version} (${ffmpeg.source}); ${os.cpus().length} cores, load average ${load} at the end\n`);
    console.log('| clip | frames | pipeline fps | process fps (with start-up) | wall s | CPU ms / frame | peak RSS CLI | peak RSS CLI + ffmpeg | CLI RSS at 10%, 20%, ..., 100% (MB) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) {
      console.log(
        `| ${r.label} | ${r.frames} | ${r.pipelineFps.toFixed(1)} | ${r.processFps.toFixed(1)} | ${r.seconds.toFixed(1)} | ${r.cpuMsPerFrame.toFixed(0)} | ${r.peakSelfMb.toFixed(0)} MB | ${r.peakTotalMb.toFixed(0)} MB | ${r.profileMb.map((v) => v.toFixed(0)).join(', ')} |`,
      );
    }
    for (const r of results) console.log(`\n${r.label}: ${r.line}`);
  }
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
