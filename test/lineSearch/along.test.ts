/**
 * The per-group `along` of the line context (src/core/along.ts): which tensors a probe or a commit moves
 * along, and the same array for the same pattern (so a commit at the last probed point needs no second move).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { alongPicker } from '../../src/core/along.js';

describe('alongPicker', () => {
  const search = [tf.scalar(1), tf.scalar(2), tf.scalar(3)];
  const update = [tf.scalar(10), tf.scalar(20), tf.scalar(30)];
  // Variables 0 and 2 in group 0, variable 1 in group 1.
  const pick = alongPicker(search, update, [0, 1, 0]);
  afterAll(() => tf.dispose([...search, ...update]));

  it('one direction for all groups returns that list itself', () => {
    expect(pick('search')).toBe(search);
    expect(pick('update')).toBe(update);
  });

  it('a per-group pattern picks each variable by its group (catches picking by variable index)', () => {
    const mix = pick(['update', 'search']);
    expect(mix).toEqual([update[0], search[1], update[2]]);
    expect(pick(['search', 'update'])).toEqual([search[0], update[1], search[2]]);
  });

  it('the same pattern gives the same array, another pattern another (commit reuse is by identity)', () => {
    const a = pick(['update', 'search']);
    expect(pick(['update', 'search'])).toBe(a);
    expect(pick(['search', 'search'])).not.toBe(a);
  });

  it('a pattern without an entry for a group is refused', () => {
    expect(() => pick(['search'])).toThrow(/group 1/);
  });
});
