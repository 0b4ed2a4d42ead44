/** logLine: progress lines go to stderr under Node and to the console where there is no process.stderr. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logLine } from '../../src/core/platform.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logLine', () => {
  it('writes the line and a newline to the stream it is given', () => {
    const written: string[] = [];
    logLine('epoch 1/2: loss=0.5', { write: (s: string) => written.push(s) });
    expect(written).toEqual(['epoch 1/2: loss=0.5\n']);
  });

  it('falls back to console.log when there is no stderr (a browser), instead of throwing', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(() => logLine('epoch 2/2', null)).not.toThrow();
    expect(log).toHaveBeenCalledWith('epoch 2/2');
  });

  it('defaults to process.stderr under Node', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    logLine('hello');
    expect(write).toHaveBeenCalledWith('hello\n');
  });
});
