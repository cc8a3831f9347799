/**
 * The published results: quality (Set5 / Set14, Y-PSNR / Y-SSIM, literature protocol) and speed (fps at 1280×720,
 * params, GFLOPs) of every model that exists (baselines, teachers and peers, students), and the student targets (quality, distillation gain, frame rate).
 *
 *   npm run results                        # full run: writes docs/results/README.md and docs/results/results.json
 *   npm run results -- --quick             # development: Set5 only, fewer frames; writes to $TMPDIR/sharpen-kd-results
 *   npm run results -- --only bicubic,student-scratch --scales 4
 *   npm run results:x1                     # the blind ×1 page only: docs/results/x1.md and x1.json (= npm run results -- --x1)
 *
 * Data: $SHARPEN_KD_DATA (default ../shared/data relative to the repository root). Models that do not exist yet
 * are listed as "not trained yet". See docs/results/README.md for the protocol.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBackend } from '../../src/backends/use-backend';
import { writeFileAtomic } from '../../src/io/atomic-write';
import { entriesFor, ENTRY_IDS, type Entry } from './results/catalog';
import { load1, loadWarning, machineInfo, othersWarning } from './results/machine';
import { rerunWithMallocTuning } from '../../src/cli/malloc-tuning';
import { measure, type MeasureOptions } from './results/measure';
import { renderMarkdown } from './results/report';
import { checkTargets, type Row } from './results/targets';
import { checkX1Targets, renderX1Markdown } from './results/x1-page';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HELP = `npm run results -- [--x1] [--quick] [--only ids] [--scales 4,2,1] [--no-fps] [--out dir]
  --x1           the blind x1 page only (scale 1: baselines, oracle, x1 students, the fixed-sigma row): x1.md and x1.json
  --quick        Set5 only and fewer fps frames (development; output goes to ${path.join(os.tmpdir(), 'sharpen-kd-results')})
  --only ids     comma-separated subset of: ${ENTRY_IDS.join(', ')}
  --scales list  comma-separated subset of 4, 2, 1 (default all)
  --no-fps       skip frame-rate measurements
  --out dir      where README.md and results.json go (default docs/results for a full run)`;

function fail(msg: string): never {
  process.stderr.write(`results: ${msg}\n\n${HELP}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let args: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      options: { x1: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string' }, scales: { type: 'string' }, 'no-fps': { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  }
  try {
    args = parse();
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  // Frame rates measured as `sharpen-kd bench` measures them: with the CLI's malloc thresholds on glibc.
  await rerunWithMallocTuning();
  const quick = !!args.quick;
  const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = only?.filter((id) => !(ENTRY_IDS as readonly string[]).includes(id));
  if (bad?.length) fail(`unknown id(s) in --only: ${bad.join(', ')}`);
  const x1Page = !!args.x1;
  if (x1Page && args.scales) fail('--x1 is scale 1 only: drop --scales');
  const scales = x1Page ? [1] : args.scales ? args.scales.split(',').map(Number) : [4, 2, 1];
  if (scales.some((s) => ![1, 2, 4].includes(s))) fail(`--scales takes 4, 2 and 1, got ${args.scales}`);
  const partial = !!only || !!args.scales || !!args['no-fps'];
  const outDir = path.resolve(root, args.out ?? (quick || partial ? path.join(os.tmpdir(), 'sharpen-kd-results') : 'docs/results'));
  const dataDir = path.resolve(root, process.env.SHARPEN_KD_DATA ?? '../shared/data');
  const sets = quick ? ['Set5'] : ['Set5', 'Set14'];
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const machine = machineInfo(root);
  const warning = loadWarning(machine.loadStart);
  if (warning) log(`WARNING: ${warning}`);
  const opts: MeasureOptions = {
    dataDir,
    sets,
    width: 1280,
    height: 720,
    warmup: quick ? 1 : 5,
    runs: quick ? 5 : 60,
    budgetMs: quick ? 8_000 : 25_000,
    log,
  };
  // TF.js backend for everything that runs on TF.js (bicubic, alpha, wasm fallback), as Student.load('auto') picks.
  await useBackend('wasm', { trainingKernels: false });

  const t0 = performance.now();
  const rows: Row[] = [];
  for (const scale of scales) {
    const entries: Entry[] = (await entriesFor(root, scale)).filter((e) => !only || only.includes(e.id));
    for (const entry of entries) {
      if (entry.missing) {
        log(`${entry.id} x${scale}: ${entry.missing}`);
        rows.push({ entry });
        continue;
      }
      log(`${entry.id} x${scale}: ${entry.label} (load ${load1().toFixed(2)})`);
      rows.push({ entry, measured: await measure(entry, opts, !args['no-fps']) });
    }
  }
  machine.loadEnd = os.loadavg();
  const othersWarned = othersWarning(rows.map((row) => row.measured?.fps?.others));
  if (othersWarned) log(`WARNING: ${othersWarned}`);
  const targets = x1Page ? checkX1Targets(rows, sets) : checkTargets(rows);
  const minutes = (performance.now() - t0) / 60_000;
  const rest = argv.filter((a) => !(x1Page && a === '--x1'));
  const command = `npm run results${x1Page ? ':x1' : ''}${rest.length ? ` -- ${rest.join(' ')}` : ''}`;
  const date = new Date().toISOString();
  const rel = (p: string) => path.relative(root, p);
  const json = {
    generated: date,
    command,
    quick,
    partial,
    minutes,
    dataDir: rel(dataDir),
    sets,
    scales,
    machine,
    targets,
    models: rows.map(({ entry, measured }) => ({
      ...entry,
      source: entry.source?.kind === 'saved' ? { ...entry.source, dir: rel(entry.source.dir) } : entry.source,
      run: entry.run ? { ...entry.run, dir: rel(entry.run.dir) } : undefined,
      measured,
    })),
  };
  mkdirSync(outDir, { recursive: true });
  const input = { command, date: `${date.slice(0, 16).replace('T', ' ')} UTC`, minutes, quick, partial, dataDir: rel(dataDir), sets, scales, machine, rows, targets };
  const [mdName, jsonName] = x1Page ? ['x1.md', 'x1.json'] : ['README.md', 'results.json'];
  await writeFileAtomic(path.join(outDir, mdName), x1Page ? renderX1Markdown(input) : renderMarkdown(input));
  await writeFileAtomic(path.join(outDir, jsonName), `${JSON.stringify(json, null, 1)}\n`);
  log(`\n${targets.map((t) => `${t.status.padEnd(12)} ${t.description}: ${t.measured === null ? '–' : t.measured.toFixed(2)} ${t.unit}`).join('\n')}`);
  log(`wrote ${rel(path.join(outDir, mdName))} and ${jsonName} in ${minutes.toFixed(1)} min`);
}

main().catch((e: unknown) => {
  process.stderr.write(`results: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
