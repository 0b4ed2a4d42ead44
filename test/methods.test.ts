/** Methods (pieces that own their step) and the composition rules of optimizer(). */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelVariables } from '../src/core/params.js';
import * as lrfree from '../src/index.js';
import {
  bitEqual,
  maxAbsDiff,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  useBackend,
} from './helpers/tf.js';

function run(opt: lrfree.LrfreeOptimizer, steps = 8): Float32Array[] {
  const model = tinyMlp(5, 7, 3);
  const { x, y } = toyClassification(32, 5, 3, 2);
  for (let i = 0; i < steps; i++) {
    opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      false,
      modelVariables(model),
    );
  }
  const w = snapshotWeights(model);
  model.dispose();
  tf.dispose([x, y]);
  opt.dispose();
  return w;
}

describe('methods', () => {
  beforeAll(() => useBackend('cpu'));

  it('optimizer({ method }) is the preset, bit for bit, and the old direction + constant(1) spelling too', () => {
    const cosine = () => lrfree.cosine({ totalSteps: 20 });
    const cases: [string, () => lrfree.LrfreeOptimizer, () => lrfree.LrfreeOptimizer][] = [
      [
        'prodigy',
        () => lrfree.prodigy({ dCoef: 0.5 }),
        () => lrfree.optimizer({ method: lrfree.methods.prodigy({ dCoef: 0.5 }) }),
      ],
      [
        'dadaptAdam',
        () => lrfree.dadaptAdam(),
        () => lrfree.optimizer({ method: lrfree.methods.dadaptAdam() }),
      ],
      ['dadaptSgd', () => lrfree.dadaptSgd(), () => lrfree.optimizer({ method: lrfree.methods.dadaptSgd() })],
      [
        'dog',
        () => lrfree.dog({ repsRel: 1e-4 }),
        () => lrfree.optimizer({ method: lrfree.methods.dog({ repsRel: 1e-4 }) }),
      ],
      ['ldog', () => lrfree.ldog(), () => lrfree.optimizer({ method: lrfree.methods.ldog() })],
      [
        'scheduleFreeAdamW',
        () => lrfree.scheduleFreeAdamW({ lr: 0.01, warmupSteps: 3 }),
        () => lrfree.optimizer({ method: lrfree.methods.scheduleFreeAdamW({ lr: 0.01, warmupSteps: 3 }) }),
      ],
      // The optimizer's schedule multiplies the method's lr: the same as the method's own schedule option.
      [
        'prodigy + schedule',
        () => lrfree.prodigy({ schedule: cosine() }),
        () => lrfree.optimizer({ method: lrfree.methods.prodigy(), schedule: cosine() }),
      ],
    ];
    for (const [name, preset, composed] of cases) {
      expect(bitEqual(run(preset()), run(composed())), name).toBe(true);
    }
    const legacy = lrfree.optimizer({
      direction: lrfree.directions.prodigyDirection({ dCoef: 0.5 }),
      step: lrfree.steps.constant(1),
    });
    expect(legacy.isMethod).toBe(true);
    expect(bitEqual(run(legacy), run(lrfree.prodigy({ dCoef: 0.5 })))).toBe(true);
  });

  it('Schedule-Free as a method gets its optimizer class (train/eval, evaluation point)', () => {
    const opt = lrfree.optimizer({ method: lrfree.methods.scheduleFreeSgd({ lr: 0.5 }) });
    expect(opt).toBeInstanceOf(lrfree.ScheduleFreeOptimizer);
    expect(lrfree.hasEvalPoint(opt)).toBe(true);
    opt.dispose();
  });

  it("DoG: a schedule multiplies DoG's lr, which moves the weights as scaling the committed step did", () => {
    const sched = () => lrfree.warmup({ steps: 4 });
    const now = run(lrfree.dog({ repsRel: 1e-4, schedule: sched() }));
    // The pre-methods meaning: the DoG direction under constant(1) with the schedule on the committed step.
    const dogDirection = lrfree.directions.dogDirection({ repsRel: 1e-4 });
    const committed: lrfree.StepRule = {
      ...lrfree.steps.constant(1),
      kind: 'committedSchedule',
      choose: (ctx) => ({ eta: sched().multiplier(ctx.step) }),
    };
    const before = run(
      lrfree.optimizer({ direction: { ...dogDirection, ownsStep: undefined } as never, step: committed }),
    );
    expect(maxAbsDiff(now, before)).toBeLessThan(1e-6);
  });

  it('config round trip: { method } and transforms are saved and rebuilt', () => {
    const opt = lrfree.optimizer({
      method: lrfree.methods.prodigy({ d0: 1e-5 }),
      transforms: lrfree.transforms.clipByGlobalNorm(2),
      schedule: lrfree.cosine({ totalSteps: 50 }),
    });
    const again = lrfree.LrfreeOptimizer.fromConfig(
      lrfree.LrfreeOptimizer,
      opt.getConfig(),
    ) as lrfree.LrfreeOptimizer;
    expect(again.getConfig()).toEqual(opt.getConfig());
    expect(again.isMethod).toBe(true);
    expect(opt.getConfig().step).toBeUndefined();
    expect(bitEqual(run(opt), run(again))).toBe(true);
  });

  it('invalid compositions fail at construction with a clear LrfreeConfigError', () => {
    const E = lrfree.LrfreeConfigError;
    expect(() => lrfree.optimizer({ method: lrfree.methods.prodigy(), step: lrfree.steps.armijo() })).toThrow(
      E,
    );
    expect(() => lrfree.optimizer({ method: lrfree.methods.prodigy(), step: lrfree.steps.armijo() })).toThrow(
      /computes its whole update.*no step rule/,
    );
    expect(() =>
      lrfree.optimizer({ method: lrfree.methods.dog(), direction: lrfree.directions.sgd() }),
    ).toThrow(/no direction/);
    // Schedule-Free under a line search would break y = beta*x + (1-beta)*z.
    expect(() =>
      lrfree.optimizer({
        direction: lrfree.directions.scheduleFreeDirection('sgd'),
        step: lrfree.steps.armijo(),
      }),
    ).toThrow(/cannot run under the step rule 'armijo'.*lrfree\.methods\.scheduleFreeSgd\(\)/);
    expect(() =>
      lrfree.optimizer({ direction: lrfree.directions.prodigyDirection(), step: lrfree.steps.constant(0.5) }),
    ).toThrow(E);
    // A method is not a direction/step, a direction is not a method.
    expect(() => lrfree.optimizer({ method: lrfree.directions.adam() as never })).toThrow(
      /options\.method must be a method/,
    );
    expect(() =>
      lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.methods.prodigy() as never }),
    ).toThrow(/'prodigy', which is a direction or a method, not a step rule/);
    // The name clashes: a whole optimizer where a piece is expected names the right spelling.
    expect(() =>
      lrfree.optimizer({ direction: lrfree.adam() as never, step: lrfree.steps.constant(1e-3) }),
    ).toThrow(/whole optimizer 'adam'.*lrfree\.directions\.adam\(\.\.\.\)/);
    expect(() =>
      lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.walk() as never }),
    ).toThrow(/whole optimizer 'walk'.*lrfree\.steps\.walk\(\.\.\.\)/);
    expect(() => lrfree.optimizer({ method: lrfree.prodigy() as never })).toThrow(/lrfree\.methods\.prodigy/);
    expect(() => lrfree.optimizer({} as never)).toThrow(E);
  });

  it("one vocabulary: the methods take beta1/beta2/epsilon as well as the reference's betas/eps", () => {
    const pairs: [lrfree.Method, lrfree.Method][] = [
      [
        lrfree.methods.prodigy({ beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }),
        lrfree.methods.prodigy({ betas: [0.8, 0.99], eps: 1e-6 }),
      ],
      [lrfree.methods.dadaptAdam({ beta2: 0.99 }), lrfree.methods.dadaptAdam({ betas: [0.9, 0.99] })],
      [
        lrfree.methods.scheduleFreeAdamW({ beta1: 0.95, epsilon: 1e-6 }),
        lrfree.methods.scheduleFreeAdamW({ betas: [0.95, 0.999], eps: 1e-6 }),
      ],
    ];
    for (const [a, b] of pairs) expect(a.config).toEqual(b.config);
    expect(() => lrfree.methods.prodigy({ beta1: 0.8, betas: [0.9, 0.99] })).toThrow(/not both/);
    expect(() => lrfree.prodigy({ eps: 1e-8, epsilon: 1e-8 })).toThrow(/not both/);
    expect(() => lrfree.scheduleFreeSgd({ beta1: 0.9 } as never)).toThrow(/unknown option 'beta1'/);
  });

  it('the namespaces spell every piece unambiguously', () => {
    expect(lrfree.directions.adam().kind).toBe('adam');
    expect(lrfree.steps.walk().kind).toBe('walk');
    expect(lrfree.steps.keepStepping().kind).toBe('keepStepping');
    expect(lrfree.methods.prodigy().ownsStep).toBe(true);
    // Top level: whole optimizers.
    for (const o of [lrfree.adam(), lrfree.walk(), lrfree.keepStepping(), lrfree.prodigy()]) {
      expect(o).toBeInstanceOf(lrfree.LrfreeOptimizer);
      o.dispose();
    }
  });
});
