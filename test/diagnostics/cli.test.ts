import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDiagnosticCommands } from '../../src/cli/diagnose.js';
import { fileSystem } from '../../src/io/fileSystem.js';
import { uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(args: string[]): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const program = new Command().exitOverride();
  registerDiagnosticCommands(program);
  await program.parseAsync(['node', 'lrfree', ...args]);
  return lines.join('\n');
}

/** A saved 4-input, 3-class model and a CSV whose labels follow a linear teacher. */
async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'lrfree-cli-'));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  await model.save(fileSystem(join(dir, 'model')));
  model.dispose();
  const xs = uniformArray(200 * 4, 3);
  const rows = ['f1,f2,f3,f4,kind'];
  for (let i = 0; i < 200; i++) {
    const r = Array.from(xs.slice(4 * i, 4 * i + 4));
    const s = [r[0] + r[1], r[2] - r[0], r[3] - r[1]];
    rows.push(`${r.map((v) => v.toFixed(4)).join(',')},${['a', 'b', 'c'][s.indexOf(Math.max(...s))]}`);
  }
  writeFileSync(join(dir, 'data.csv'), `${rows.join('\n')}\n`);
  return dir;
}

describe('lrfree find-lr / landscape / procedure on a saved model with CSV data', () => {
  it('find-lr prints the suggestions and writes the report', async () => {
    const dir = await fixture();
    const out = await run([
      'find-lr',
      '--model',
      join(dir, 'model'),
      '--csv',
      join(dir, 'data.csv'),
      '--label',
      'kind',
      '--num-it',
      '40',
      '--batch-size',
      '16',
      '--backend',
      'cpu',
      '-q',
      '--out',
      join(dir, 'r'),
    ]);
    expect(out).toMatch(/valley/);
    expect(out).toMatch(/suggested learning rate \(valley\): [\d.e+-]+/);
    expect(existsSync(join(dir, 'r', 'report.html'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'r', 'results.json'), 'utf8')).lrs.length).toBeGreaterThan(5);
  });
  it('landscape and procedure (two steps) run end to end', async () => {
    const dir = await fixture();
    const base = [
      '--model',
      join(dir, 'model', 'model.json'),
      '--csv',
      join(dir, 'data.csv'),
      '--backend',
      'cpu',
      '-q',
      '--batch-size',
      '16',
    ];
    const land = await run(['landscape', ...base, '--steps', '9', '--plane', '3', '--out', join(dir, 'l')]);
    expect(land).toMatch(/alpha/);
    const proc = await run([
      'procedure',
      ...base,
      '--epochs',
      '1',
      '--num-it',
      '30',
      '--skip',
      'line,momentum,decay,cyclical,variants',
      '--out',
      join(dir, 'p'),
    ]);
    expect(proc).toMatch(/learning rate/);
    expect(JSON.parse(readFileSync(join(dir, 'p', 'state.json'), 'utf8')).completed).toEqual(['lr', 'final']);
  });
  it("'diagnose' is the procedure under another name, with --help", async () => {
    const dir = await fixture();
    const written: string[] = [];
    const program = new Command().exitOverride().configureOutput({ writeOut: (t) => void written.push(t) });
    registerDiagnosticCommands(program);
    await expect(program.parseAsync(['node', 'lrfree', 'diagnose', '--help'])).rejects.toThrow();
    const help = written.join('');
    expect(help).toMatch(/Usage: lrfree procedure\|diagnose/);
    expect(help).toMatch(/--lr-free <names>/);
    expect(help).toMatch(/--rule <name>.*confirmed/);
    const out = await run([
      'diagnose',
      '--model',
      join(dir, 'model'),
      '--csv',
      join(dir, 'data.csv'),
      '--backend',
      'cpu',
      '-q',
      '--batch-size',
      '16',
      '--epochs',
      '1',
      '--num-it',
      '30',
      '--confirm-steps',
      '20',
      '--lr-free',
      'none',
      '--skip',
      'line,momentum,decay,cyclical,variants',
      '--out',
      join(dir, 'd'),
    ]);
    expect(out).toMatch(/learning rate\s+[\d.e+-]+ \((sure|NOT SURE)\)/);
    expect(out).toMatch(/learning-rate candidates/);
    expect(out).toMatch(/cost: \d+ backwards/);
    expect(JSON.parse(readFileSync(join(dir, 'd', 'state.json'), 'utf8')).completed).toEqual(['lr', 'final']);
  });
  it('reads IDX images and labels (MNIST layout)', async () => {
    const dir = await fixture();
    const n = 60;
    const img = Buffer.alloc(16 + n * 4);
    img.writeUInt32BE(0x00000803, 0);
    img.writeUInt32BE(n, 4);
    img.writeUInt32BE(2, 8);
    img.writeUInt32BE(2, 12);
    const lab = Buffer.alloc(8 + n);
    lab.writeUInt32BE(0x00000801, 0);
    lab.writeUInt32BE(n, 4);
    const px = uniformArray(n * 4, 9);
    for (let i = 0; i < n; i++) {
      const p = Array.from(px.slice(4 * i, 4 * i + 4), (v) => Math.round(127.5 * (v + 1)));
      for (const [j, v] of p.entries()) img.writeUInt8(v, 16 + 4 * i + j);
      lab.writeUInt8(p[0] > p[1] ? (p[2] > 127 ? 0 : 1) : 2, 8 + i);
    }
    writeFileSync(join(dir, 'img.idx'), img);
    writeFileSync(join(dir, 'lab.idx'), lab);
    const out = await run([
      'find-lr',
      '--model',
      join(dir, 'model'),
      '--idx-images',
      join(dir, 'img.idx'),
      '--idx-labels',
      join(dir, 'lab.idx'),
      '--num-it',
      '20',
      '--batch-size',
      '8',
      '--backend',
      'cpu',
      '-q',
      '--out',
      join(dir, 'i'),
    ]);
    expect(out).toMatch(/suggested learning rate/);
  });
  it('errors name the file, the line and the fix', async () => {
    const dir = await fixture();
    const csv = join(dir, 'data.csv');
    const model = join(dir, 'model', 'model.json');
    const common = ['--backend', 'cpu', '-q'];
    await expect(
      run(['find-lr', '--model', model, '--csv', csv, '--label', 'target', ...common]),
    ).rejects.toThrow(
      /data\.csv: label column 'target' does not exist\. Fix: use one of 'f1', 'f2', 'f3', 'f4', 'kind'/,
    );
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'f1,f2,f3,f4,kind\n1,2,3,4,a\n1,2,3,b\n');
    await expect(run(['find-lr', '--model', model, '--csv', bad, ...common])).rejects.toThrow(
      /bad\.csv:3: this row has 4 fields/,
    );
    const broken = join(dir, 'broken');
    const text = readFileSync(model, 'utf8');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(broken);
    copyFileSync(join(dir, 'model', 'weights.bin'), join(broken, 'weights.bin'));
    writeFileSync(join(broken, 'model.json'), `{\n  "modelTopology": ${text.slice(0, 40)}\n`);
    await expect(run(['find-lr', '--model', broken, '--csv', csv, ...common])).rejects.toThrow(
      /broken\/model\.json:\d+:\d+: malformed JSON .*Fix:/,
    );
    writeFileSync(join(broken, 'model.json'), '{"format": "graph-model"}');
    await expect(run(['find-lr', '--model', broken, '--csv', csv, ...common])).rejects.toThrow(
      /no 'modelTopology'.*Fix:/,
    );
    writeFileSync(join(dir, 'wide.csv'), 'a,b,kind\n1,2,x\n3,4,y\n');
    await expect(
      run(['find-lr', '--model', model, '--csv', join(dir, 'wide.csv'), ...common]),
    ).rejects.toThrow(/takes inputs of shape \[4\] .* but .*wide\.csv has 2 feature columns/);
  });
});
