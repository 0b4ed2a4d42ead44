import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatSeconds, progress } from '../src/cli/progress.js';

describe('progress in a log (no terminal)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes a line per 5% with an ETA, and a final done line', () => {
    const lines: string[] = [];
    const tty = process.stderr.isTTY;
    process.stderr.isTTY = false;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const p = progress('sweep', 200);
      for (let done = 0; done <= 200; done++) p.update(done);
      p.stop('all runs');
    } finally {
      process.stderr.isTTY = tty;
    }
    expect(lines.length).toBe(21); // 0/200 ... 190/200, then done
    expect(lines[1]).toMatch(/^sweep: 10\/200 \(\d+\.\d+s( ETA \d+s)?\)/);
    expect(lines[20]).toBe('sweep: done, all runs\n');
  });

  it('formats durations for people', () => {
    expect(formatSeconds(42.4)).toBe('42s');
    expect(formatSeconds(75)).toBe('1m15s');
    expect(formatSeconds(3725)).toBe('1h02m');
  });
});
