/**
 * bench/robustness-retuned.ts, the robustness bench's yardstick: per change, the Adam rate with the lowest
 * mean log test loss (a diverged seed counts as +Infinity), its ratio to the re-tuned unchanged run, and
 * auto's ratio to it, paired by seed; an edge of the rates tried is marked.
 */
import { describe, expect, it, vi } from 'vitest';
import { printRetuned, type RobustLine } from '../../bench/robustness-retuned.js';

const line = (
  optimizer: string,
  change: string,
  seed: number,
  testLoss: number,
  diverged = false,
): RobustLine => ({
  task: 't',
  optimizer,
  change,
  seed,
  diverged,
  testLoss,
});

function printed(lines: RobustLine[], changes: string[]): string[][] {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  printRetuned(lines, ['t'], changes);
  const rows = log.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('| t |'));
  log.mockRestore();
  return rows.map((r) =>
    r
      .split('|')
      .map((c) => c.trim())
      .slice(1, -1),
  );
}

describe('robustness bench: Adam re-tuned for each change', () => {
  it('chooses the rate with the lowest mean log loss; a diverged seed rules a rate out', () => {
    const lines = [
      // unchanged: 0.01 best (1.0, 1.0) over 0.001 (2.0, 2.0)
      ...[1, 2].flatMap((s) => [line('adam@0.001', 'unchanged', s, 2), line('adam@0.01', 'unchanged', s, 1)]),
      // changed: 0.01 has the lowest loss on seed 1 but diverges on seed 2, so 0.001 is chosen
      line('adam@0.001', 'big', 1, 1.5),
      line('adam@0.001', 'big', 2, 1.2),
      line('adam@0.01', 'big', 1, 0.1),
      line('adam@0.01', 'big', 2, Number.NaN, true),
      line('auto', 'big', 1, 0.75),
      line('auto', 'big', 2, 1.2),
      line('auto', 'unchanged', 1, 0.9),
      line('auto', 'unchanged', 2, 0.9),
    ];
    const [unchanged, big] = printed(lines, ['unchanged', 'big']);
    expect(unchanged.slice(0, 4)).toEqual(['t', 'unchanged', '0.001, 0.01', '0.01 (top edge)']);
    expect(big.slice(0, 4)).toEqual(['t', 'big', '0.001, 0.01', '0.001 (bottom edge)']);
    // re-tuned big over re-tuned unchanged, per seed: 1.5 / 1, 1.2 / 1
    expect(big[4]).toBe('1.500, 1.200');
    expect(big[6]).toBe('no');
    // auto over re-tuned Adam at the same change: 0.75 / 1.5, 1.2 / 1.2
    expect(big[7]).toBe('0.500, 1.000');
    expect(unchanged[7]).toBe('0.900, 0.900');
  });

  it('says so when every rate diverged, and prints nothing without an Adam grid', () => {
    const lines = [
      line('adam@0.1', 'unchanged', 1, 1),
      line('adam@0.1', 'huge', 1, Number.NaN, true),
      line('adam@1', 'huge', 1, Number.NaN, true),
    ];
    const [, huge] = printed(lines, ['unchanged', 'huge']);
    expect(huge.slice(0, 4)).toEqual(['t', 'huge', '0.1, 1', 'every rate diverged']);
    expect(printed([line('auto', 'unchanged', 1, 1)], ['unchanged'])).toEqual([]);
  });
});
