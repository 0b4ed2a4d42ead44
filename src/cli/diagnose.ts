/**
 * `lrfree find-lr`, `lrfree landscape`, `lrfree procedure` (alias `lrfree diagnose`): the diagnostics on a
 * built-in task or on the user's saved model with CSV / IDX data. Numbers in the terminal, an HTML report
 * (+ raw JSON) in a folder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type BackendName, ready } from '../backend/ready.js';
import { LrfreeConfigError } from '../core/validate.js';
import {
  type ProcedureInterrupted,
  type ProcedureState,
  procedure,
  STEP_TITLES,
  STEPS,
  type StepName,
} from '../diagnostics/procedure.js';
import { lrRangeTest, RULES } from '../diagnostics/rangeTest.js';
import { LR_FREE_CANDIDATES } from '../diagnostics/recommend.js';
import { bugsAndWarnings } from '../diagnostics/redFlags.js';
import { BUILTIN_TASKS, builtinSource, type Source, userSource } from '../diagnostics/sources.js';
import { loadState, saveState } from '../diagnostics/stateFile.js';
import type { Variant } from '../diagnostics/trainer.js';
import { weightSpaceLine, weightSpacePlane } from '../diagnostics/weightSpace.js';
import { lineCharts, planeChart, procedureReport, rangeTestChart } from '../report/diagnosticsCharts.js';
import { formatNumber, writeReport } from '../report/html.js';
import { printTable } from './demo.js';
import { type Progress, progress } from './progress.js';

const num = (v: string) => Number(v);
const int = (v: string) => Number.parseInt(v, 10);
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Options every diagnostic command takes (where the model and data come from, output, backend). */
function withSource(cmd: Command): Command {
  return cmd
    .option('--task <name>', `built-in task: ${BUILTIN_TASKS.join(', ')} (default mnist-mlp unless --model)`)
    .option('--train-size <n>', 'training examples of a built-in task', int)
    .option(
      '--model <path>',
      'your saved TF.js model: model.json or its folder (model.save(lrfree.io.fileSystem(dir)))',
    )
    .option('--csv <file>', 'training data: CSV with feature columns and a label column')
    .option('--label <column>', 'label column of the CSV: name or 0-based index (default: last column)')
    .option('--validation-csv <file>', 'held-out data with the same columns')
    .option(
      '--validation-split <f>',
      'fraction of the training rows held out when no validation file is given',
      num,
      0.2,
    )
    .option('--idx-images <file>', 'training images in IDX format (MNIST layout)')
    .option('--idx-labels <file>', 'training labels in IDX format')
    .option('--regression', 'the label is a number (mean squared error), not a class')
    .option('--batch-size <n>', 'mini-batch size', int, 64)
    .option('--seed <n>', 'seed of batch order, dropout masks and random directions', int, 0)
    .option('--backend <name>', 'force a backend: wasm, cpu or tensorflow')
    .option('-q, --quiet', 'no progress output');
}

interface SourceOpts {
  task?: string;
  trainSize?: number;
  model?: string;
  csv?: string;
  label?: string;
  validationCsv?: string;
  validationSplit?: number;
  idxImages?: string;
  idxLabels?: string;
  regression?: boolean;
  seed: number;
  batchSize: number;
  backend?: BackendName;
  quiet?: boolean;
  out: string;
}

async function open(opts: SourceOpts): Promise<Source> {
  await ready({ backend: opts.backend, quiet: opts.quiet });
  if (opts.model) {
    if (opts.task) throw new LrfreeConfigError('give either --task or --model, not both.');
    return userSource({
      model: opts.model,
      csv: opts.csv,
      label: opts.label,
      validationCsv: opts.validationCsv,
      validationSplit: opts.validationSplit,
      idxImages: opts.idxImages,
      idxLabels: opts.idxLabels,
      task: opts.regression ? 'regression' : 'classification',
    });
  }
  if (opts.csv || opts.idxImages)
    throw new LrfreeConfigError('--csv and --idx-images need --model <model.json> (the model to diagnose).');
  return builtinSource(opts.task ?? 'mnist-mlp', { trainSize: opts.trainSize, seed: opts.seed });
}

/** A progress reporter per label, created on first use. */
function progressFor(quiet?: boolean) {
  const bars = new Map<string, Progress>();
  return {
    update(label: string, done: number, total: number) {
      let bar = bars.get(label);
      if (!bar) {
        bar = progress(label, total, quiet);
        bars.set(label, bar);
      }
      bar.update(done);
    },
    stop(label: string, summary?: string) {
      bars.get(label)?.stop(summary);
      bars.delete(label);
    },
  };
}

/** Registers `find-lr`, `landscape` and `procedure` (alias `diagnose`) on the `lrfree` program. */
export function registerDiagnosticCommands(program: Command): void {
  withSource(
    program
      .command('find-lr')
      .description(
        'Learning-rate range test (fastai or lr-finder style): prints the suggestions, writes a report.',
      ),
  )
    .option(
      '--style <name>',
      'fastai (debiased EMA 0.98, stop at 4x best) or lrFinder (EMA 0.05, stop at 5x)',
      'fastai',
    )
    .option('--start <lr>', 'first learning rate', num, 1e-7)
    .option('--end <lr>', 'last learning rate', num, 10)
    .option('--num-it <n>', 'number of learning rates (default 100 per batch, 20 per epoch)', int)
    .option(
      '--per <unit>',
      'raise the rate every batch (fastai) or every epoch (the procedure text)',
      'batch',
    )
    .option('--linear', 'linear instead of exponential spacing')
    .option('--validation', 'record the validation loss after every step (slower, less noisy)')
    .option('--variant <name>', 'sgd, momentum or adam (the suggestion is specific to it)', 'sgd')
    .option('--rule <name>', 'suggestion printed last: valley, slide, steep, minimum or steepest', 'valley')
    .option('-o, --out <dir>', 'report folder', 'lrfree-out/find-lr')
    .action(async (opts) => {
      const src = await open(opts);
      const bars = progressFor(opts.quiet);
      try {
        const rt = await lrRangeTest(src.model, src.data, {
          style: opts.style,
          startLr: opts.start,
          endLr: opts.end,
          numIt: opts.numIt,
          increase: opts.per,
          stepMode: opts.linear ? 'linear' : 'exp',
          validation: opts.validation,
          variant: opts.variant as Variant,
          rule: opts.rule,
          batchSize: opts.batchSize,
          seed: opts.seed,
          loss: src.loss,
          onProgress: (d, t) => bars.update('range test', d, t),
        });
        bars.stop('range test', `${rt.lrs.length} rates, ${rt.stopped}`);
        const s = rt.suggestions;
        const rows = (['valley', 'slide', 'steep', 'minimum', 'steepest'] as const)
          .filter((k) => s[k])
          .map((k) => [k === 'minimum' ? 'minimum/10' : k, s[k]!.lr, s[k]!.loss]);
        const table = { columns: ['rule', 'learning rate', 'smoothed loss'], rows };
        console.log(`${src.name}: ${rt.style} range test, ${rt.lrs.length} rates, stopped: ${rt.stopped}`);
        console.log(printTable(table));
        console.log(`\nsuggested learning rate (${rt.rule}): ${formatNumber(rt.suggestion)}`);
        const { html } = await writeReport(
          opts.out,
          {
            title: 'lrfree find-lr',
            subtitle: src.name,
            sections: [{ title: 'Learning-rate range test', table, charts: [rangeTestChart(rt)] }],
          },
          rt,
        );
        console.log(`report: ${html}`);
      } finally {
        src.dispose();
      }
    });

  withSource(
    program
      .command('landscape')
      .description(
        'Loss along a filter-normalised random line (and over a plane) through the weights; writes a report.',
      ),
  )
    .option('--steps <n>', 'points on the line', int, 51)
    .option('--span <a>', 'the line goes from -a to a', num, 1)
    .option('--plane <n>', 'also a plane of n x n points (0 = none)', int, 21)
    .option('--normalization <name>', 'filter, layer or none', 'filter')
    .option('-o, --out <dir>', 'report folder', 'lrfree-out/landscape')
    .action(async (opts) => {
      const src = await open(opts);
      const bars = progressFor(opts.quiet);
      try {
        const on = { ...(src.data.validation ?? src.data.train), loss: src.loss };
        const line = weightSpaceLine(src.model, on, {
          from: -opts.span,
          to: opts.span,
          steps: opts.steps,
          seed: opts.seed,
          normalization: opts.normalization,
          onProgress: (d, t) => bars.update('line', d, t),
        });
        bars.stop('line');
        const plane =
          opts.plane > 0
            ? weightSpacePlane(src.model, on, {
                from: -opts.span,
                to: opts.span,
                steps: opts.plane,
                seed: opts.seed,
                normalization: opts.normalization,
                onProgress: (d, t) => bars.update('plane', d, t),
              })
            : undefined;
        if (plane) bars.stop('plane');
        const mid = line.alphas.indexOf(0);
        const rows = [
          0,
          Math.floor(line.alphas.length / 4),
          mid,
          Math.floor((3 * line.alphas.length) / 4),
          line.alphas.length - 1,
        ]
          .filter((i, k, a) => i >= 0 && a.indexOf(i) === k)
          .map((i) => [line.alphas[i], line.losses[i], line.accuracies?.[i] ?? '-']);
        console.log(`${src.name}: loss along a ${line.normalization}-normalised random direction`);
        console.log(printTable({ columns: ['alpha', 'loss', 'accuracy'], rows }));
        const { html } = await writeReport(
          opts.out,
          {
            title: 'lrfree landscape',
            subtitle: src.name,
            sections: [
              { title: 'Random line', charts: lineCharts(line, 'Random line') },
              ...(plane ? [{ title: 'Random plane', charts: [planeChart(plane)] }] : []),
            ],
          },
          { line, plane },
        );
        console.log(`report: ${html}`);
      } finally {
        src.dispose();
      }
    });

  withSource(
    program
      .command('procedure')
      .alias('diagnose')
      .description(
        'The step-by-step procedure (also `lrfree diagnose`): line search, a learning rate confirmed by short runs, momentum range test, decay and cyclical checks, other optimizers and learning-rate-free methods, init->final line; recommendations (with how sure), red flags (with what to do) and a report. Ctrl-C saves the finished steps; --resume continues.',
      ),
  )
    .option('--epochs <n>', 'epochs of every comparison run (N)', int, 5)
    .option('--num-it <n>', 'learning rates of the range test', int, 100)
    .option(
      '--rule <name>',
      `how step 2 picks the rate: confirmed (range-test candidates checked by short runs) or one range-test rule alone: ${RULES.join(', ')}`,
      'confirmed',
    )
    .option(
      '--confirm-steps <n>',
      'steps of each confirmation run (default: 2 epochs, 100..300 batches)',
      int,
    )
    .option('--variants <names>', 'optimizers compared in step 6, each with its own range test', list, [
      'adam',
    ])
    .option(
      '--lr-free <names>',
      `learning-rate-free methods compared with the tuned rate in step 6 ('none' for none)`,
      list,
      [...LR_FREE_CANDIDATES],
    )
    .option('--skip <steps>', `steps to leave out: ${STEPS.join(', ')}`, list, [])
    .option(
      '--line <direction>',
      "step 1 direction: random (filter-normalised) or short (one epoch of Adam's move)",
      'random',
    )
    .option('--resume', 'continue from <out>/state.json')
    .option(
      '-o, --out <dir>',
      'report folder (report.html, results.json, state.json)',
      'lrfree-out/procedure',
    )
    .action(async (opts) => {
      const src = await open(opts);
      mkdirSync(opts.out, { recursive: true });
      const statePath = join(opts.out, 'state.json');
      let resume: ProcedureState | undefined;
      if (opts.resume) {
        if (!existsSync(statePath))
          throw new LrfreeConfigError(
            `--resume: ${statePath} does not exist. Fix: run without --resume first.`,
          );
        resume = loadState(statePath);
      }
      const bars = progressFor(opts.quiet);
      const controller = new AbortController();
      // First Ctrl-C: stop after the current mini-batch and save. Launchers (npx, tsx) may relay the same
      // signal a second time at once, so repeats within 1 s are ignored; a later one exits immediately.
      let firstAt = 0;
      const onSigint = () => {
        const now = Date.now();
        if (firstAt === 0) {
          firstAt = now;
          process.stderr.write('\ninterrupting after the current mini-batch (Ctrl-C again to quit now)...\n');
          controller.abort();
        } else if (now - firstAt > 1000) process.exit(130);
      };
      process.on('SIGINT', onSigint);
      const write = async (state: ProcedureState) => {
        saveState(statePath, state);
        return writeReport(opts.out, procedureReport(state, src.name), state);
      };
      try {
        const state = await procedure(src.model, src.data, {
          epochs: opts.epochs,
          batchSize: opts.batchSize,
          seed: opts.seed,
          loss: src.loss,
          rangeTest: { numIt: opts.numIt },
          lrChoice: opts.rule,
          ...(opts.confirmSteps ? { confirm: { steps: opts.confirmSteps } } : {}),
          lrFree: (opts.lrFree as string[]).filter((n) => n !== 'none'),
          variants: (opts.variants as string[]).filter((n) => n !== 'none') as Variant[],
          skip: opts.skip as StepName[],
          lineDirection: opts.line,
          resume,
          signal: controller.signal,
          onProgress: (step, d, t) => bars.update(STEP_TITLES[step], d, t),
          onStep: async (step, st) => {
            bars.stop(
              STEP_TITLES[step],
              st.skipped[step]
                ? `skipped: ${st.skipped[step]}`
                : `${((st.ms[step] ?? 0) / 1000).toFixed(1)} s`,
            );
            await write(st);
          },
        });
        const { html } = await write(state);
        console.log(summary(state, src.name));
        console.log(`\nreport: ${html}\nstate: ${statePath}`);
      } catch (e) {
        if ((e as Error).name === 'ProcedureInterrupted') {
          const st = (e as ProcedureInterrupted).state;
          await write(st);
          console.error(
            `interrupted after ${st.completed.length} of ${STEPS.length} steps; state saved in ${statePath}. ` +
              'Run the same command with --resume to continue.',
          );
          process.exitCode = 130;
          return;
        }
        throw e;
      } finally {
        process.removeListener('SIGINT', onSigint);
        src.dispose();
      }
    });
}

/** The terminal summary of a procedure: recommendations (with how sure), candidates, red flags (with what to do). */
export function summary(state: ProcedureState, name: string): string {
  const r = state.recommendations;
  const rows: (string | number)[][] = [];
  const lr = r.learningRate;
  if (lr)
    rows.push([
      'learning rate',
      `${formatNumber(lr.value)} (${lr.sure ? 'sure' : 'NOT SURE'}${lr.method === 'confirmed' ? '' : `, ${lr.method} rule alone`})`,
    ]);
  if (r.momentum) rows.push(['momentum', formatNumber(r.momentum.value)]);
  if (r.decay) rows.push(['power decay', `${r.decay.value ? 'yes' : 'no'} (M = ${r.decay.plateauEpochs})`]);
  if (r.cyclical) rows.push(['cyclical', r.cyclical.value ? 'yes' : 'no']);
  if (r.variant) rows.push(['best variant', `${r.variant.value} @ ${formatNumber(r.variant.learningRate)}`]);
  if (r.lrFree)
    rows.push([
      'learning-rate-free',
      r.lrFree.value.length
        ? `${r.lrFree.value.join(', ')}: as good as the tuned rate`
        : 'none as good as the tuned rate',
    ]);
  const parts = [`${name}\n${printTable({ columns: ['recommendation', 'value'], rows })}`];
  if (lr && lr.candidates.length > 0) {
    parts.push(
      `learning-rate candidates (${state.lrChoice?.steps ?? '?'} steps each; lowest held-out loss wins):\n${printTable(
        {
          columns: ['learning rate', 'proposed by', 'held-out loss', 'fell beyond noise'],
          rows: lr.candidates.map((c) => [
            formatNumber(c.lr),
            c.source.join('+'),
            formatNumber(c.heldOutLoss),
            c.fell ? 'yes' : 'no',
          ]),
        },
      )}`,
    );
  }
  if (lr) {
    parts.push(
      `why: ${lr.why.join('; ') || '-'}\ncost: ${lr.cost.backwards} backwards, ${lr.cost.forwards} extra forwards, ${lr.cost.seconds.toFixed(1)} s`,
    );
  }
  // Red flags (probably a bug in the code or the data) apart from warnings about the setting.
  const list = (flags: typeof state.redFlags) =>
    flags
      .map((f) => `  [${f.confidence} confidence] ${f.id}: ${f.message}\n    what to do: ${f.action}`)
      .join('\n');
  const { bugs, warnings } = bugsAndWarnings(state.redFlags);
  parts.push(`red flags:\n${bugs.length ? list(bugs) : '  none'}`);
  if (warnings.length) parts.push(`warnings about the setting:\n${list(warnings)}`);
  return parts.join('\n\n');
}
