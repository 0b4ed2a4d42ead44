/** Applying a step size (number, per group, or per-variable tensor) to a list of tensors. */
import * as tf from '@tensorflow/tfjs';
import { stepAlong } from './stepKernels.js';
import type { Eta, PerVariableEta } from './types.js';

/** True when `eta` holds one tensor per variable. */
export function isPerVariable(eta: Eta): eta is PerVariableEta {
  return typeof eta === 'object' && eta !== null && 'perVariable' in eta;
}

/** The step size of variable `i` (in group `group`), as a number or a tensor. */
export function etaOf(eta: Eta, i: number, group: number): number | tf.Tensor {
  if (typeof eta === 'number') return eta;
  if (isPerVariable(eta)) return eta.perVariable[i];
  return (eta as readonly number[])[group];
}

/** True when two etas move the weights identically (per-variable tensors: only the same object). */
export function sameEta(a: Eta, b: Eta): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return false;
  if (isPerVariable(a) || isPerVariable(b)) return false;
  const x = a as readonly number[];
  const y = b as readonly number[];
  return x.length === y.length && x.every((e, i) => e === y[i]);
}

/** True when the step moves nothing. */
export function isZeroEta(eta: Eta): boolean {
  if (typeof eta === 'number') return eta === 0;
  if (isPerVariable(eta)) return false;
  return (eta as readonly number[]).every((e) => e === 0);
}

/**
 * `base - eta * d`, written as `d * (-eta) + base` so that a plain SGD step is bit-identical to
 * `tf.train.sgd` (which computes `add(mul(-lr, g), w)`).
 */
export function stepFrom(base: tf.Tensor, d: tf.Tensor, eta: number | tf.Tensor): tf.Tensor {
  if (typeof eta === 'number') {
    if (eta === 0) return base.clone();
    return stepAlong(base, d, -eta);
  }
  // base - eta*d equals base + (-eta)*d bit for bit (negation is exact); one kernel fewer per variable.
  return tf.sub(base, tf.mul(eta, d));
}

/** The number shown in `lastStep.eta` for an eta, when no rule-specific report is given. */
export function reportedEta(eta: Eta): number | number[] {
  if (typeof eta === 'number') return eta;
  if (isPerVariable(eta)) return Number.NaN;
  return [...(eta as readonly number[])];
}

/** Multiplies every entry of an eta by a scalar. */
export function scaleEta(eta: Eta, factor: number): Eta {
  if (factor === 1) return eta;
  if (typeof eta === 'number') return eta * factor;
  if (isPerVariable(eta)) return { perVariable: eta.perVariable.map((t) => tf.keep(tf.mul(t, factor))) };
  return (eta as readonly number[]).map((e) => e * factor);
}
