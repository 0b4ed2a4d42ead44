/**
 * The configuration matched to the common PyTorch MNIST setup, so lrfree's numbers can be set beside
 * published PyTorch runs of the same thing: MLP 784-128-128-10 (ReLU, softmax), all 60,000 training
 * images, batch 128 (469 steps per epoch, the last batch 96), 5 epochs (2345 steps), test on the 10,000 test
 * images; auto() and SLS at their defaults, SGD at 0.3, Adam at 1e-3 (no schedule, no weight decay), 5 seeds.
 * Reports test accuracy and loss per method: mean over seeds with a 95% percentile bootstrap interval of the
 * mean, the median with failures (diverged) ranked worst, and the accuracy's paired difference from Adam's.
 *
 *   npx tsx bench/matched-mnist.ts                        # all of it (~2345 steps x 4 methods x 5 seeds)
 *   npx tsx bench/matched-mnist.ts --seeds 1 --epochs 1   # a smoke run
 *   npx tsx bench/matched-mnist.ts --write-doc            # also write the table into docs/results.md
 *
 * Runs are cached in lrfree-out/matched-mnist.jsonl (--store): one line per (method, seed, epochs,
 * train size), so an interrupted run resumes.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { codeVersion } from '../src/bench/codeVersion.js';
import { medianFailuresWorst, pairedBootstrap } from '../src/bench/metrics.js';
import { benchOptimizer, checkBenchSpec } from '../src/bench/specs.js';
import { withEvalPoint } from '../src/core/evalPoint.js';
import { loadMnist } from '../src/data/mnist.js';
import { evaluateClassifier, trainClassifier } from '../src/train/classification.js';
import { mlp } from '../src/train/models.js';
import '../src/index.js';

const HELP = `usage: npx tsx bench/matched-mnist.ts [--methods auto,sls,sgd@0.3,adam@0.001] [--seeds 1,2,3,4,5]
       [--epochs 5] [--train-size 60000] [--store lrfree-out/matched-mnist.jsonl] [--write-doc]`;

interface Args {
  methods: string[];
  seeds: number[];
  epochs: number;
  trainSize: number;
  store: string;
  writeDoc: boolean;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const a: Args = {
    methods: ['auto', 'sls', 'sgd@0.3', 'adam@0.001'],
    seeds: [1, 2, 3, 4, 5],
    epochs: 5,
    trainSize: 60000,
    store: 'lrfree-out/matched-mnist.jsonl',
    writeDoc: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-h' || k === '--help') return 'help';
    if (k === '--write-doc') {
      a.writeDoc = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--methods') a.methods = v.split(',');
    else if (k === '--seeds') a.seeds = v.split(',').map(Number);
    else if (k === '--epochs') a.epochs = Number(v);
    else if (k === '--train-size') a.trainSize = Number(v);
    else if (k === '--store') a.store = v;
    else throw new Error(`unknown argument '${k}'`);
  }
  for (const m of a.methods) checkBenchSpec(m);
  if (!a.seeds.every(Number.isInteger)) throw new Error('--seeds: integers, e.g. 1,2,3');
  if (!(Number.isInteger(a.epochs) && a.epochs >= 1)) throw new Error('--epochs: a positive integer');
  if (!(Number.isInteger(a.trainSize) && a.trainSize >= 128 && a.trainSize <= 60000))
    throw new Error('--train-size: an integer in [128, 60000]');
  return a;
}

interface Result {
  key: string;
  method: string;
  seed: number;
  epochs: number;
  trainSize: number;
  steps: number;
  diverged: boolean;
  test: { loss: number; accuracy: number };
  seconds: number;
  code: string;
}

let args: Args;
try {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(HELP);
    process.exit(0);
  }
  args = parsed;
} catch (e) {
  console.error(`matched-mnist: ${(e as Error).message}\n${HELP}`);
  process.exit(2);
}

const keyOf = (method: string, seed: number) => `${method}|${seed}|${args.epochs}|${args.trainSize}`;
const done = new Map<string, Result>(
  existsSync(args.store)
    ? readFileSync(args.store, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Result)
        .map((r) => [r.key, r])
    : [],
);

await ready({ quiet: true });
const data = loadMnist({ trainSize: args.trainSize, validationSize: 0, testSize: 10000 });
const stepsPerEpoch = Math.ceil(args.trainSize / 128);
for (const method of args.methods) {
  for (const seed of args.seeds) {
    const key = keyOf(method, seed);
    if (done.has(key)) continue;
    const t0 = performance.now();
    const model = mlp({ inputs: 784, hidden: [128, 128], classes: 10, seed });
    const opt = benchOptimizer(method, { stepsPerEpoch, totalSteps: args.epochs * stepsPerEpoch, seed });
    opt.attachModel(model);
    const { steps } = await trainClassifier({
      model,
      optimizer: opt,
      train: data.train,
      epochs: args.epochs,
      batchSize: 128,
      seed,
    });
    const test = withEvalPoint(opt, { model, trainX: data.train.x, batchSize: 128 }, () =>
      evaluateClassifier(model, data.test),
    );
    const diverged = !Number.isFinite(test.loss) || steps.some((s) => !Number.isFinite(s.loss));
    const r: Result = {
      key,
      method,
      seed,
      epochs: args.epochs,
      trainSize: args.trainSize,
      steps: steps.length,
      diverged,
      test,
      seconds: (performance.now() - t0) / 1000,
      code: codeVersion(),
    };
    mkdirSync(dirname(args.store), { recursive: true });
    appendFileSync(args.store, `${JSON.stringify(r)}\n`);
    done.set(key, r);
    console.error(
      `${method} seed ${seed}: test accuracy ${test.accuracy.toFixed(4)}, loss ${test.loss.toFixed(4)} (${r.seconds.toFixed(0)} s)`,
    );
    opt.dispose();
    model.dispose();
  }
}
tf.dispose([data.train.x, data.train.y, data.validation.x, data.validation.y, data.test.x, data.test.y]);

const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
// Each method's accuracy minus Adam 1e-3's (PyTorch's common default), paired by seed.
const PAIRED_WITH = 'adam@0.001';
const accuracyOf = (method: string, seed: number) => {
  const r = done.get(keyOf(method, seed));
  return r === undefined ? undefined : r.diverged ? Number.NEGATIVE_INFINITY : r.test.accuracy;
};
function pairedWithAdam(method: string): string {
  if (method === PAIRED_WITH) return '';
  const d = args.seeds.flatMap((s) => {
    const a = accuracyOf(method, s);
    const b = accuracyOf(PAIRED_WITH, s);
    return a === undefined || b === undefined ? [] : [a - b];
  });
  if (d.length < 2 || !d.every(Number.isFinite)) return '-';
  const i = pairedBootstrap(d, { statistic: 'mean' });
  const verdict = i.low > 0 ? 'higher' : i.high < 0 ? 'lower' : 'inconclusive';
  return `${fmt(i.estimate)} [${fmt(i.low)}, ${fmt(i.high)}] ${verdict}`;
}
const lines = [
  `| method | seeds | test accuracy: mean [95% CI] | median | accuracy - ${PAIRED_WITH}'s, paired by seed: mean [95% CI] | test loss: mean [95% CI] | median | diverged | seconds per run |`,
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const method of args.methods) {
  const rs = args.seeds.map((s) => done.get(keyOf(method, s))).filter((r): r is Result => r !== undefined);
  const acc = rs.map((r) => (r.diverged ? Number.NEGATIVE_INFINITY : r.test.accuracy));
  const loss = rs.map((r) => (r.diverged ? Number.POSITIVE_INFINITY : r.test.loss));
  const ok = rs.every((r) => !r.diverged);
  const am = ok ? pairedBootstrap(acc, { statistic: 'mean' }) : undefined;
  const lm = ok ? pairedBootstrap(loss, { statistic: 'mean' }) : undefined;
  const accMedian = -medianFailuresWorst(acc.map((x) => -x));
  lines.push(
    `| ${method} | ${rs.length} | ${am ? `${fmt(am.estimate)} [${fmt(am.low)}, ${fmt(am.high)}]` : 'failed seeds: no mean'} | ${fmt(accMedian)} | ${pairedWithAdam(method)} | ${lm ? `${fmt(lm.estimate)} [${fmt(lm.low)}, ${fmt(lm.high)}]` : '-'} | ${fmt(medianFailuresWorst(loss))} | ${rs.filter((r) => r.diverged).length}/${rs.length} | ${fmt(rs.reduce((a, r) => a + r.seconds, 0) / Math.max(1, rs.length), 0)} |`,
  );
}
const table = `MLP 784-128-128-10, ${args.trainSize} training images, batch 128, ${args.epochs} epochs (${args.epochs * stepsPerEpoch} steps), 10,000 test images; runs made by code ${[...new Set([...done.values()].map((r) => r.code))].join(', ')}.\n\n${lines.join('\n')}`;
console.log(table);
if (args.writeDoc) {
  const path = 'docs/results.md';
  const start = '<!-- matched:start -->';
  const end = '<!-- matched:end -->';
  const doc = readFileSync(path, 'utf8');
  if (!doc.includes(start) || !doc.includes(end)) throw new Error(`${path} lacks ${start} ... ${end}`);
  writeFileSync(path, doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${table}\n${end}`));
}
