#!/usr/bin/env node
/** The `lrfree` command. */
import { Command } from 'commander';
import { catalog } from '../optimizers/catalog.js';
import '../index.js';
import { registerBenchCommands } from './bench.js';
import { demoHeadline, demoSummary, runDemo } from './demo.js';
import { registerDiagnosticCommands } from './diagnose.js';
import { registerPlaygroundCommand } from './playground.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

// Positional options: a subcommand's options are its own (`bench merge ... -o file` is merge's -o, not
// bench's), so the parent's options go before the subcommand's name.
const program = new Command().enablePositionalOptions();
program
  .name('lrfree')
  .description('Train neural networks on TensorFlow.js without tuning the learning rate.')
  .version('0.1.0')
  .addHelpText(
    'after',
    `
Environment (read by every command when it starts TF.js):
  LRFREE_BACKEND=wasm|cpu|tensorflow  force a backend (default: tensorflow if installed, else wasm)
  LRFREE_THREADS=1..8                 wasm threads (default: the cores available, at most 8)
  LRFREE_FMA=0                        wasm matrix products without relaxed SIMD's fused multiply-add
                                      (the default uses it where the engine can: about 1.25x faster
                                      products; 0 reproduces runs made without it, bit for bit)`,
  );

program
  .command('demo')
  .description(
    'The quick benchmark suite: small tasks and an MNIST MLP, lrfree.auto() (no settings) vs grid-tuned scheduled momentum/AdamW and the strongest learning-rate-free rivals; prints tables, the accuracy and total compute (grid included), and writes an HTML report.',
  )
  .option('-o, --out <dir>', 'output folder', 'lrfree-out/demo')
  .option('--tasks <names>', 'comma-separated task names (default: the quick suite)', list)
  .option('--optimizers <specs>', 'comma-separated catalog names or baseline@eta (see `lrfree list`)', list)
  .option('--workers <n>', 'worker threads (0 = in process; default one per core)', (v) =>
    Number.parseInt(v, 10),
  )
  .option('--backend <name>', 'force a backend: wasm, cpu or tensorflow')
  .option('-q, --quiet', 'no progress output')
  .action(async (opts) => {
    const { comparisons, html, records } = await runDemo(opts);
    console.log(demoSummary(comparisons));
    const headline = demoHeadline(comparisons, records);
    if (headline) console.log(`\n${headline}`);
    console.log(`\nreport: ${html}`);
  });

program
  .command('list')
  .description('List the optimizers lrfree offers.')
  .action(() => {
    for (const e of catalog()) console.log(`${e.name.padEnd(18)} ${e.family.padEnd(13)} ${e.description}`);
  });

registerBenchCommands(program);
registerPlaygroundCommand(program);
registerDiagnosticCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as Error;
  console.error(`lrfree: ${e.name === 'LrfreeConfigError' ? '' : `${e.name}: `}${e.message}`);
  process.exit(1);
});
