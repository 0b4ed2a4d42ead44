import { describe, expect, it } from 'vitest';
import { suiteDefaults } from '../../src/bench/suites.js';
import { longer, taskByName } from '../../src/bench/tasks/index.js';

describe('budgets', () => {
  it('the MNIST tasks also run at 4x in the standard suite, with 5 seeds', () => {
    const base = taskByName('mnist-mlp');
    const four = taskByName('mnist-mlp-4x');
    expect(four.budget.standard).toBe(4 * base.budget.standard);
    expect(four.create).toBe(base.create);
    expect(taskByName('mnist-bn-dropout-4x').budget.standard).toBe(
      4 * taskByName('mnist-bn-dropout').budget.standard,
    );
    expect(longer(base, 2).name).toBe('mnist-mlp-2x');
    const std = suiteDefaults('standard');
    expect(std.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(std.tasks).toEqual(expect.arrayContaining(['mnist-mlp-4x', 'mnist-bn-dropout-4x']));
    // The quick suite (demo, tests) does not grow.
    expect(suiteDefaults('quick').tasks).not.toContain('mnist-mlp-4x');
  });
});
