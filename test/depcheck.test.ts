/**
 * The layer check fails on a reversed import (issue #19 item 6). `npm test` runs `node scripts/depcheck.mjs`
 * on src/ (no violation allowed); here the same script and rules run on two small fixture trees written
 * to a temp folder: one that respects the layers (passes) and one with reversed imports (fails, naming
 * each rule it breaks).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve('scripts', 'depcheck.mjs');
const CONFIG = resolve('.dependency-cruiser.cjs');
const dirs: string[] = [];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lrfree-depcheck-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    '{ "compilerOptions": { "module": "NodeNext", "strict": true } }\n',
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function depcheck(cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SCRIPT, '--config', CONFIG, 'src'], { cwd });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => done({ code, out }));
  });
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('pass on imports that flow down, and fail on reversed ones', async () => {
    const good = tree({
      'src/core/types.ts': 'export const core = 1;\n',
      'src/directions/sgd.ts': "import { core } from '../core/types.js';\nexport const sgd = core;\n",
      'src/optimizers/preset.ts': "import { sgd } from '../directions/sgd.js';\nexport const preset = sgd;\n",
      'src/cli/main.ts':
        "import { readFileSync } from 'node:fs';\nimport { preset } from '../optimizers/preset.js';\nexport const x = [preset, readFileSync];\n",
      'src/index.ts': "export { preset } from './optimizers/preset.js';\n",
    });
    const bad = tree({
      // core imports a preset (reversed), which imports core back (a cycle).
      'src/core/types.ts': "import { preset } from '../optimizers/preset.js';\nexport const core = preset;\n",
      'src/optimizers/preset.ts':
        "import { core } from '../core/types.js';\nexport const preset = () => core;\n",
      // a direction imports a preset, as src/directions/index.ts once did.
      'src/directions/sgd.ts':
        "import { preset } from '../optimizers/preset.js';\nexport const sgd = preset;\n",
      // the root entry reaches node:fs through Alrao.
      'src/alrao/model.ts': "import { writeFileSync } from 'node:fs';\nexport const save = writeFileSync;\n",
      'src/index.ts':
        "export { save } from './alrao/model.js';\nexport { sgd } from './directions/sgd.js';\n",
    });
    const [ok, broken] = await Promise.all([depcheck(good), depcheck(bad)]);
    expect(ok.out).toContain('no dependency violations found');
    expect(ok.code).toBe(0);
    expect(broken.code).toBe(1);
    for (const rule of [
      'core-imports-nothing-above: src/core/types.ts → src/optimizers/preset.ts',
      'L2-imports-only-L2-and-core: src/directions/sgd.ts → src/optimizers/preset.ts',
      'no-circular',
      'root-entry-is-browser-safe: src/index.ts → fs',
    ]) {
      expect(broken.out, rule).toContain(rule);
    }
  });
});
