/** Hand-made benchmark records for the comparison and report tests. */
import type { RunRecord } from '../../src/bench/record.js';

export const INF = Number.POSITIVE_INFINITY;

/**
 * A hand-made record: only what the comparison reads. `reachAt` is the cost at which the monitored
 * validation loss first falls to `best` (evaluations at cost 0, reachAt and `cost`); Infinity: the loss
 * only falls to 1 (the start is 2).
 */
export function rec(
  task: string,
  optimizer: string,
  seed: number,
  o: { val: number; test?: number; cost?: number; best?: number; reachAt?: number; diverged?: boolean },
): RunRecord {
  const cost = o.cost ?? 900;
  const best = o.best ?? o.val;
  const reachAt = o.reachAt ?? cost;
  const evals = Number.isFinite(reachAt)
    ? [
        { step: 0, cost: 0, ms: 0, loss: 2 },
        { step: reachAt / 3, cost: reachAt, ms: 1, loss: best },
        { step: cost / 3, cost, ms: 2, loss: best },
      ]
    : [
        { step: 0, cost: 0, ms: 0, loss: 2 },
        { step: cost / 3, cost, ms: 2, loss: 1 },
      ];
  return {
    key: `standard|${task}|${optimizer}|${seed}`,
    task,
    optimizer,
    seed,
    suite: 'standard',
    backend: 'cpu',
    steps: cost / 3,
    forwards: cost / 3,
    backwards: cost / 3,
    cost,
    wallMs: 1,
    skipped: 0,
    diverged: o.diverged ?? false,
    L: 0,
    Lcost: 0,
    trace: [],
    evals,
    final: {
      validation: { loss: o.diverged ? Number.NaN : o.val },
      test: { loss: o.diverged ? Number.NaN : (o.test ?? o.val) },
    },
    toTarget: { steps: INF, cost: INF, ms: INF },
  };
}
