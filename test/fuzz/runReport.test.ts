/**
 * Property tests of every optimizer's run report (core/runReport.ts): for any sequence of steps (losses
 * finite or not, negative, tiny or huge; skips; scalar or per-group step sizes) the report is built
 * without throwing, survives JSON unchanged, counts the steps, keeps its windows inside the losses it saw,
 * and is `ok` exactly when no flag is a warning. The fast-check seed is printed on failure
 * (FUZZ_SEED=<seed> reproduces).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReport, RunJournal } from '../../src/core/runReport.js';
import type { StepRecord } from '../../src/core/types.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

const loss = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.double({ min: 0, max: 1e-30, noNaN: true }),
  fc.double({ min: 1e300, max: 1.7e308, noNaN: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0),
);
const eta = fc.oneof(
  fc.double({ min: 0, max: 1e3, noNaN: true }),
  fc.array(fc.double({ min: 0, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 3 }),
);
const step = fc.record({ loss, eta, skipped: fc.boolean() });

describe('run report properties', () => {
  it(`any sequence of steps gives a consistent, JSON-safe report (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), (steps) => {
        const j = new RunJournal();
        for (const s of steps) {
          const rec: StepRecord = {
            loss: s.loss,
            eta: s.skipped ? 0 : s.eta,
            forwards: 0,
            backwards: 1,
            skipped: s.skipped,
            ...(s.skipped ? { skipReason: 'loss' as const } : {}),
            info: {},
          };
          j.record(rec);
        }
        const r = j.report('fuzz');
        expect(r.steps).toBe(steps.length);
        expect(r.skipped).toBe(steps.filter((s) => s.skipped).length);
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        expect(r.ok).toBe(r.flags.every((f) => f.severity !== 'warning'));
        expect(new Set(r.flags.map((f) => f.id)).size).toBe(r.flags.length);
        const seen = steps.filter((s) => !s.skipped && Number.isFinite(s.loss)).map((s) => s.loss);
        for (const w of [r.loss.start, r.loss.end]) {
          if (!w) continue;
          expect(Number.isFinite(w.mean)).toBe(true);
          expect(w.mean).toBeGreaterThanOrEqual(Math.min(...seen) - 1e-9 * Math.abs(Math.min(...seen)));
          expect(w.mean).toBeLessThanOrEqual(Math.max(...seen) + 1e-9 * Math.abs(Math.max(...seen)));
          expect(w.fromStep).toBeLessThanOrEqual(w.toStep);
        }
        for (const f of r.flags) expect(f.message.length + f.action.length).toBeGreaterThan(20);
        expect(formatReport(r).split('\n')[0]).toMatch(/^fuzz: /);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
