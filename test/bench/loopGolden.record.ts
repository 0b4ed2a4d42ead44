/**
 * Writes test/fixtures/loop/golden.json from the current code (run once, before a change to the training
 * loop): `npx tsx test/bench/loopGolden.record.ts`.
 */
import { writeFileSync } from 'node:fs';
import { ready } from '../../src/index.js';
import { goldenNumbers, helperNumbers } from './loopGolden.shared.js';

await ready({ backend: 'cpu', quiet: true });
const helpers = await helperNumbers();
writeFileSync(
  new URL('../fixtures/loop/helpers.json', import.meta.url),
  `${JSON.stringify(helpers, null, 1)}\n`,
);
if (process.argv.includes('--helpers-only')) process.exit(0);
const numbers = await goldenNumbers();
writeFileSync(
  new URL('../fixtures/loop/golden.json', import.meta.url),
  `${JSON.stringify(numbers, null, 1)}\n`,
);
console.log(Object.keys(numbers).join('\n'));
