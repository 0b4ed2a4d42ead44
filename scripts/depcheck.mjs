/**
 * The layer check (`npm run depcheck`, part of `npm test`): dependency-cruiser with the rules in
 * .dependency-cruiser.cjs over src/. Called through dependency-cruiser's API because its command line refuses
 * Node 20 (engines ^22), which the API runs on fine.
 *
 *   node scripts/depcheck.mjs [--config FILE] [PATH...]     (default: the repo's config, src)
 *
 * Exits 1 and prints each violation (rule, from -> to, and the path for reachability rules) when a rule is
 * broken. test/depcheck.test.ts runs it on a fixture with reversed imports.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
let configFile = resolve(repo, '.dependency-cruiser.cjs');
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--config') configFile = resolve(args[++i]);
  else paths.push(args[i]);
}
if (paths.length === 0) paths.push('src');

const ruleSet = await extractDepcruiseConfig(configFile);
const tsConfigFile = resolve('tsconfig.json');
const tsConfig = existsSync(tsConfigFile) ? extractTSConfig(tsConfigFile) : undefined;
const options = { ...ruleSet.options, validate: true, ruleSet, outputType: 'err' };
const result = await cruise(paths, options, undefined, tsConfig ? { tsConfig } : undefined);
process.stdout.write(result.output);
process.exitCode = result.exitCode > 0 ? 1 : 0;
