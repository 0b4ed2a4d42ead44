/**
 * What the optimizer's step guards use: copies of variables to put back when a step is skipped (the
 * batch-norm statistics a training-mode forward wrote), the finiteness check of a chosen step size, and the
 * words the skip warning uses for each reason. Apart from the optimizer class so that the step loop reads
 * as the step, not as its bookkeeping.
 */
import * as tf from '@tensorflow/tfjs';
import { isPerVariable } from './eta.js';
import type { Eta, StepRecord } from './types.js';

/** Why a step was skipped: what was not finite. */
export type SkipReason = NonNullable<StepRecord['skipReason']>;

/** The words the skip warning uses for each reason. */
export const SKIP_WHAT: Record<SkipReason, string> = {
  loss: 'loss',
  gradient: 'gradient',
  eta: 'step size (eta)',
  update: 'update (or the new weights or optimizer state)',
};

/** A variable and a copy of its value, to put back. */
export interface VariableCopy {
  variable: tf.Variable;
  copy: tf.Tensor;
}

/** Copies of the variables' values, kept past any tidy (the caller disposes them). */
export function snapshotVariables(vars: readonly tf.Variable[]): VariableCopy[] {
  return vars.map((variable) => ({ variable, copy: tf.keep(variable.clone()) }));
}

/** Puts each copy back into its variable (a variable disposed since is left alone). */
export function restoreVariables(copies: readonly VariableCopy[]): void {
  for (const { variable, copy } of copies) if (!variable.isDisposed) variable.assign(copy);
}

/** True when every number of a scalar or per-group eta is finite (per-variable tensors are checked later). */
export function finiteEta(eta: Eta): boolean {
  if (typeof eta === 'number') return Number.isFinite(eta);
  if (isPerVariable(eta)) return true;
  return (eta as readonly number[]).every(Number.isFinite);
}
