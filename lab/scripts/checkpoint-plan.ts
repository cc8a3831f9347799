/**
 * Which training runs still need their optimizer state. A run folder's `last.ckpt` / `best.ckpt` hold the Adam moments
 * and the EMA shadows next to the weights; the lab commits them only while something needs them:
 *
 * - the run is unfinished (its log ends before its config's `schedule.steps`): it can be resumed;
 * - the run is a stage of a shipped model's chain (the `stages=(...)` of lab/reproduce.sh): reproduce.sh checks it
 *   and later runs (fine-tunes of the shipped model) continue it;
 * - another lab run starts from it (`resumeFrom`) and has not finished yet;
 * - it is the run's only copy of the weights (no `model-best/` or `model-last/`).
 *
 * Everything else is a finished run whose weights are in its exported models; its optimizer state can go (a rerun of
 * that run starts from nothing, or from the run it continues). Runs without a config in lab/runs/ are left alone.
 *
 * Prints one tab-separated line per run: `keep <run folder> <reason>` or `remove <file> <reason>` (one per file).
 * Usage: npx tsx lab/scripts/checkpoint-plan.ts   (reads only; lab/move-checkpoints.sh acts on it)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { registerDistill } from '../../src/cli/distill';
import { loadRunConfig, runConfigCommand } from '../../src/cli/run-config';
import { registerTrain } from '../../src/cli/train';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
process.chdir(root);
const runsDir = 'lab/runs';

const program = new Command();
registerTrain(program);
registerDistill(program);
const command = (name: string) => program.commands.find((c) => c.name() === name)!;

interface Run {
  config: string;
  out: string;
  steps: number;
  resumeFrom?: string;
}
const runs: Run[] = fs
  .readdirSync(runsDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const config = path.join(runsDir, f);
    const { values, resumeFrom } = loadRunConfig(config, command(runConfigCommand(config)));
    const folder = (p: string) => path.resolve(p.endsWith('.ckpt') ? path.dirname(p) : p);
    return { config, out: folder(values.out as string), steps: (values.steps as number | undefined) ?? 20000, resumeFrom: resumeFrom && folder(resumeFrom) };
  });

/** The last step a run's log.jsonl reached (0 without a log; a half-written last line is ignored). */
function loggedStep(dir: string): number {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8');
  } catch {
    return 0;
  }
  let step = 0;
  for (const line of text.split('\n')) {
    try {
      const s = (JSON.parse(line) as { step?: number }).step;
      if (typeof s === 'number' && s > step) step = s;
    } catch {
      // a half-written line
    }
  }
  return step;
}
const finished = (r: Run) => loggedStep(r.out) >= r.steps;

// The shipped chains: every stage named in lab/reproduce.sh.
const shipped = new Map<string, string>();
const reproduce = fs.readFileSync('lab/reproduce.sh', 'utf8');
for (const m of reproduce.matchAll(/^\s*(\d|x[\w-]+)\)\s*stages=\(([^)]*)\)/gm)) {
  const model = /^\d$/.test(m[1]) ? `x${m[1]}` : m[1];
  for (const stage of m[2].trim().split(/\s+/)) {
    const run = runs.find((r) => r.config === path.join(runsDir, `${stage}.json`));
    if (run) shipped.set(run.out, `a stage of the shipped models/${model} chain (lab/reproduce.sh ${m[1]}); later runs continue it`);
  }
}

const rel = (p: string) => path.relative(root, p);
for (const r of runs) {
  const files = ['last.ckpt', 'best.ckpt'].map((f) => path.join(r.out, f)).filter((f) => fs.existsSync(f));
  if (!fs.existsSync(r.out) || files.length === 0) continue;
  const step = loggedStep(r.out);
  const continuedBy = runs.filter((o) => o.resumeFrom === r.out && !finished(o)).map((o) => path.basename(o.config, '.json'));
  const hasModel = ['model-best', 'model-last'].some((m) => fs.existsSync(path.join(r.out, m, 'model.json')));
  let keep: string | undefined;
  if (step < r.steps) keep = `unfinished (step ${step} of ${r.steps}): resumable`;
  else if (shipped.has(r.out)) keep = shipped.get(r.out);
  else if (continuedBy.length) keep = `${continuedBy.join(', ')} start${continuedBy.length === 1 ? 's' : ''} from it and ${continuedBy.length === 1 ? 'has' : 'have'} not finished`;
  else if (!hasModel) keep = 'no model-best/ or model-last/: the checkpoint is the only copy of its weights';
  if (keep) {
    console.log(`keep\t${rel(r.out)}\t${keep}`);
    continue;
  }
  for (const f of files) {
    console.log(`remove\t${rel(f)}\tfinished at step ${step} of ${r.steps}, no unfinished run continues it; its weights stay in ${['model-best', 'model-last'].filter((m) => fs.existsSync(path.join(r.out, m))).join(' and ')}`);
  }
}
