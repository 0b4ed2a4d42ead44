/**
 * Hyperparameters that can change at run time, as optax's `inject_hyperparams` or torch's `param_groups`
 * allow: each component declares the ones it reads from its context (`Component.hyperparameters`), and
 * the optimizer holds their current values in its state (saved and restored with it).
 *
 * Names: unqualified (`lr`, `momentum`, `beta1`) when only one piece of the optimizer has it, or
 * qualified by scope (`step.lr`, `direction.momentum`, `method.lr`, `transforms.maxNorm`).
 */
import type { HyperparameterSpec } from './types.js';
import { checkNumber, LrfreeConfigError } from './validate.js';

/** The scopes a hyperparameter can live in. */
export type HyperScope = 'transforms' | 'direction' | 'method' | 'step';

interface HasHyper {
  readonly kind: string;
  readonly hyperparameters?: Readonly<Record<string, HyperparameterSpec>>;
}

/**
 * The run-time hyperparameters of one optimizer (`opt.hyperparams`).
 *
 * @example
 * ```ts
 * const opt = lrfree.sgd(0.1);
 * opt.hyperparams.set('lr', 0.01);   // the next step uses 0.01
 * opt.hyperparams.get('lr');         // 0.01
 * ```
 */
export class Hyperparameters {
  private readonly specs = new Map<string, { scope: HyperScope; name: string; spec: HyperparameterSpec }>();
  private readonly current: Record<string, Record<string, number>> = {};

  constructor(
    private readonly owner: string,
    pieces: readonly [HyperScope, HasHyper | undefined][],
  ) {
    for (const [scope, piece] of pieces) {
      const hp = piece?.hyperparameters;
      if (!hp) continue;
      this.current[scope] = {};
      for (const [name, spec] of Object.entries(hp)) {
        this.specs.set(`${scope}.${name}`, { scope, name, spec });
        this.current[scope][name] = spec.value;
      }
    }
  }

  /** True when no piece declares a run-time hyperparameter. */
  get isEmpty(): boolean {
    return this.specs.size === 0;
  }

  /** Every qualified name (`step.lr`, `direction.momentum`, ...). */
  names(): string[] {
    return [...this.specs.keys()];
  }

  /** The current value of `name` (qualified, or unqualified when unambiguous). */
  get(name: string): number {
    const { scope, name: n } = this.resolve(name);
    return this.current[scope][n];
  }

  /**
   * Sets `name` for the next steps, checked against the piece's bounds (an {@link LrfreeConfigError}
   * names the parameter, the value and the range).
   */
  set(name: string, value: number): void {
    const key = this.resolve(name);
    const { spec } = this.specs.get(`${key.scope}.${key.name}`)!;
    this.current[key.scope][key.name] = checkNumber(this.owner, name, value, spec);
  }

  /** Current values by scope (a copy), as saved with the optimizer's state. */
  values(): Record<string, Record<string, number>> {
    return Object.fromEntries(Object.entries(this.current).map(([k, v]) => [k, { ...v }]));
  }

  /** The current values of one scope, read by the pieces at every step. Empty when there are none. */
  scope(scope: HyperScope): Readonly<Record<string, number>> {
    return this.current[scope] ?? EMPTY;
  }

  /** Restores values saved by {@link values} (names that no longer exist are ignored). */
  restore(saved: Record<string, Record<string, number>>): void {
    for (const [scope, vals] of Object.entries(saved)) {
      for (const [name, v] of Object.entries(vals)) {
        if (this.specs.has(`${scope}.${name}`)) this.current[scope][name] = v;
      }
    }
  }

  private resolve(name: string): { scope: HyperScope; name: string } {
    const exact = this.specs.get(name);
    if (exact) return exact;
    const hits = [...this.specs.values()].filter((s) => s.name === name);
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw new LrfreeConfigError(
        `${this.owner}: hyperparameter '${name}' is ambiguous; use one of ${hits.map((h) => `${h.scope}.${h.name}`).join(', ')}.`,
      );
    }
    throw new LrfreeConfigError(
      `${this.owner}: no run-time hyperparameter '${name}'; this optimizer has ${
        this.specs.size ? this.names().join(', ') : 'none'
      }.`,
    );
  }
}

const EMPTY: Readonly<Record<string, number>> = Object.freeze({});
