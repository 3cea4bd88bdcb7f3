// xent/tfjs: crossEntropyLoss as a tfjs loss, on tfjs's cpu and wasm backends. The loss and its gradient
// (tf.grad, tf.variableGrads, optimizer.minimize) against tfjs's own softmaxCrossEntropy (one-hot, with
// label smoothing: tfjs smooths as onehot * (1 - s) + s / C, PyTorch's definition), a sparse form built
// from tf ops (logSumExp - gather, with per-class weights), and the PyTorch fixtures where tfjs has no
// equivalent (ignoreIndex, K-dim, probability targets). Node only: vitest.browser.config.ts leaves it out
// (tfjs's wasm backend would need its .wasm files served in a browser).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyLoss, init } from '../src/tfjs.ts';
import { getBackendInfo } from '../src/index.ts';
import { allocatedFloat32Bytes } from '../src/memory.ts';
import { expectClose, TOL as CORE_TOL } from './helpers/close.ts';
import { expectedValues, loadFixtures, type LossCase } from './helpers/fixtures.ts';
import { rng as mulberry32 } from './helpers/random.ts';

const TOL = { rtol: 1e-5, atol: 1e-6 };

function close(got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol = TOL): void {
  expect(got.length, `${label} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = !Number.isFinite(want[i]) ? Object.is(got[i], want[i])
      : Math.abs(got[i] - want[i]) <= tol.atol + tol.rtol * Math.abs(want[i]);
    if (!ok) expect.fail(`${label}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function randomProblem(seed: number, N: number, C: number): { x: Float32Array; t: Int32Array } {
  const r = mulberry32(seed);
  const x = new Float32Array(N * C);
  for (let i = 0; i < x.length; i++) x[i] = r() * 8 - 4;
  const t = new Int32Array(N);
  for (let i = 0; i < N; i++) t[i] = Math.floor(r() * C);
  return { x, t };
}

let prior: string;
beforeAll(async () => {
  prior = tf.getBackend();
  await init();
  await tf.setBackend('cpu');
  tf.backend(); // initialise
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // no tfjs-node advert
});
afterAll(async () => {
  if (prior) await tf.setBackend(prior);
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`xent/tfjs on tfjs's ${backend} backend`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      await tf.ready();
    });

    it('matches tf.losses.softmaxCrossEntropy (one-hot), loss and tf.grad, with and without label smoothing', () => {
      const N = 37, C = 11;
      const { x, t } = randomProblem(1, N, C);
      tf.tidy(() => {
        const logits = tf.tensor2d(x, [N, C]);
        const target = tf.tensor1d(t, 'int32');
        const oneHot = tf.oneHot(target, C).toFloat();
        for (const s of [0, 0.1, 0.35]) {
          const mine = tf.valueAndGrad((l: tf.Tensor) => crossEntropyLoss(l, target, { labelSmoothing: s }))(logits);
          const theirs = tf.valueAndGrad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l, undefined, s))(logits);
          expect(mine.value.shape).toEqual([]);
          close(mine.value.dataSync(), theirs.value.dataSync(), `loss s=${s}`);
          close(mine.grad.dataSync(), theirs.grad.dataSync(), `grad s=${s}`);
          // probability targets: the one-hot itself
          const prob = tf.valueAndGrad((l: tf.Tensor) => crossEntropyLoss(l, oneHot, { labelSmoothing: s }))(logits);
          close(prob.value.dataSync(), theirs.value.dataSync(), `prob loss s=${s}`);
          close(prob.grad.dataSync(), theirs.grad.dataSync(), `prob grad s=${s}`);
        }
      });
    });

    it('matches a sparse form from tf ops (logSumExp - gather) with per-class weights, mean, sum and none', () => {
      const N = 23, C = 7;
      const { x, t } = randomProblem(2, N, C);
      const w = Float32Array.from({ length: C }, (_, c) => 0.25 + c / 3);
      tf.tidy(() => {
        const logits = tf.tensor2d(x, [N, C]);
        const target = tf.tensor1d(t, 'int32');
        const wt = tf.gather(tf.tensor1d(w), target); // w[t_n]
        const perRow = (l: tf.Tensor) => tf.mul(wt, tf.sub(tf.logSumExp(l, 1), tf.sum(tf.mul(l, tf.oneHot(target, C)), 1)));
        const refs = {
          mean: (l: tf.Tensor) => tf.div(tf.sum(perRow(l)), tf.sum(wt)),
          sum: (l: tf.Tensor) => tf.sum(perRow(l)),
          // tfjs's own weighted loss: per-example weights w[t_n], summed (Reduction.SUM)
          tfSum: (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(target, C), l, wt, 0, tf.Reduction.SUM),
        };
        for (const reduction of ['mean', 'sum'] as const) {
          const mine = tf.valueAndGrad((l: tf.Tensor) => crossEntropyLoss(l, target, { weight: w, reduction }))(logits);
          const ref = tf.valueAndGrad(refs[reduction])(logits);
          close(mine.value.dataSync(), ref.value.dataSync(), `${reduction} loss`);
          close(mine.grad.dataSync(), ref.grad.dataSync(), `${reduction} grad`);
        }
        const tfSum = tf.valueAndGrad(refs.tfSum)(logits);
        const mineSum = tf.valueAndGrad((l: tf.Tensor) => crossEntropyLoss(l, target, { weight: w, reduction: 'sum' }))(logits);
        close(mineSum.value.dataSync(), tfSum.value.dataSync(), 'tfjs weighted SUM loss');
        close(mineSum.grad.dataSync(), tfSum.grad.dataSync(), 'tfjs weighted SUM grad');
        // 'none': per-row losses, and a per-row upstream gradient dy broadcast over the classes
        const dy = tf.tensor1d(Float32Array.from({ length: N }, (_, i) => (i % 5) - 2));
        const none = crossEntropyLoss(logits, target, { weight: w, reduction: 'none' });
        expect(none.shape).toEqual([N]);
        close(none.dataSync(), perRow(logits).dataSync(), 'none loss');
        const g = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(crossEntropyLoss(l, target, { weight: w, reduction: 'none' }), dy)))(logits);
        const gRef = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(perRow(l), dy)))(logits);
        close(g.dataSync(), gRef.dataSync(), 'none grad');
        // a scaled scalar loss: dy = 3
        const g3 = tf.grad((l: tf.Tensor) => tf.mul(crossEntropyLoss(l, target), 3))(logits);
        const g3Ref = tf.grad((l: tf.Tensor) => tf.mul(tf.losses.softmaxCrossEntropy(tf.oneHot(target, C), l), 3))(logits);
        close(g3.dataSync(), g3Ref.dataSync(), 'scaled grad');
      });
    });

    it('matches the PyTorch fixtures where tfjs has no equivalent (ignoreIndex, K-dim, probabilities)', () => {
      const cases = loadFixtures('torch-small').filter((c): c is LossCase =>
        c.op === 'cross_entropy' && c.expected.grad64 !== null && c.expected.out32 !== null &&
        c.input.data.length > 0 &&
        (c.input.shape.length > 2 || c.options.ignoreIndex !== -100 || c.name.includes('ignore') || c.target.kind === 'prob'));
      expect(cases.length).toBeGreaterThan(8);
      let checked = 0;
      for (const c of cases) {
        if (c.target.kind === 'index' && [...c.target.data].some((v) => v > 2n ** 31n - 1n || v < -(2n ** 31n))) continue;
        tf.tidy(() => {
          const logits = tf.tensor(c.input.data, c.input.shape, 'float32');
          const target = c.target.kind === 'index'
            ? tf.tensor(Int32Array.from(c.target.data, Number), c.target.shape, 'int32')
            : tf.tensor(c.target.data, c.target.shape, 'float32');
          const { weight, ignoreIndex, reduction, labelSmoothing } = c.options;
          const options = { weight: weight ?? undefined, ignoreIndex, reduction, labelSmoothing };
          const dy = c.gradOutput!;
          const f = (l: tf.Tensor) => {
            const loss = crossEntropyLoss(l, target, options);
            return reduction === 'none' ? tf.sum(tf.mul(loss, tf.tensor(Float32Array.from(dy), loss.shape))) : tf.mul(loss, dy[0]);
          };
          const loss = crossEntropyLoss(logits, target, options);
          const grad = tf.grad(f)(logits);
          const got = loss.dataSync();
          expectClose(got, expectedValues(c, got), CORE_TOL.loss, `${c.name} loss`);
          // xent's gradient for dy = 1, times dy in f32: one rounding more than torch's
          expectClose(grad.dataSync(), Array.from(c.expected.grad64!, Math.fround), { rtol: 4e-5, atol: 1e-6 }, `${c.name} grad`);
        });
        checked++;
      }
      expect(checked).toBeGreaterThan(8);
    });

    it('trains: tf.variableGrads and optimizer.minimize get the fused gradient, and no tensor leaks', () => {
      const N = 16, D = 6, C = 5;
      const r = mulberry32(3);
      const xs = tf.tensor2d(Float32Array.from({ length: N * D }, () => r() * 2 - 1), [N, D]);
      const ys = tf.tensor1d(Int32Array.from({ length: N }, () => Math.floor(r() * C)), 'int32');
      const oneHot = tf.oneHot(ys, C).toFloat();
      const init = Float32Array.from({ length: D * C }, () => r() - 0.5);
      const w1 = tf.variable(tf.tensor2d(init, [D, C]));
      const w2 = tf.variable(tf.tensor2d(init, [D, C]));
      // variableGrads: the same gradients as tfjs's own loss
      tf.tidy(() => {
        const mine = tf.variableGrads(() => crossEntropyLoss(tf.matMul(xs, w1), ys, { labelSmoothing: 0.1 }) as tf.Scalar, [w1]);
        const theirs = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oneHot, tf.matMul(xs, w2), undefined, 0.1) as tf.Scalar, [w2]);
        close(mine.value.dataSync(), theirs.value.dataSync(), 'variableGrads loss');
        close(mine.grads[w1.name].dataSync(), theirs.grads[w2.name].dataSync(), 'variableGrads grad');
      });
      // minimize: the same trajectory, step by step; numTensors unchanged by a step in tf.tidy
      const opt1 = tf.train.adam(0.05), opt2 = tf.train.adam(0.05);
      const step = (opt: tf.Optimizer, f: () => tf.Scalar) => tf.tidy(() => opt.minimize(f, true)!.dataSync()[0]);
      step(opt1, () => crossEntropyLoss(tf.matMul(xs, w1), ys) as tf.Scalar); // creates adam's slots
      step(opt2, () => tf.losses.softmaxCrossEntropy(oneHot, tf.matMul(xs, w2)) as tf.Scalar);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        const a = step(opt1, () => crossEntropyLoss(tf.matMul(xs, w1), ys) as tf.Scalar);
        const b = step(opt2, () => tf.losses.softmaxCrossEntropy(oneHot, tf.matMul(xs, w2)) as tf.Scalar);
        close([a], [b], `minimize step ${i}`, { rtol: 1e-5, atol: 1e-5 });
      }
      expect(tf.memory().numTensors).toBe(before);
      // a loss outside any gradient (forward only) leaks nothing either
      tf.tidy(() => crossEntropyLoss(tf.matMul(xs, w1), ys).dataSync());
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xs, ys, oneHot, w1, w2]);
      opt1.dispose();
      opt2.dispose();
    });

    it('frees the gradient of a loss recorded but never differentiated (a metric in minimize): xent memory stays flat', () => {
      // 256 x 4000 on wasm (4 MB a buffer: 32 leaked ones are plain to see); cpu holds no xent buffer, and its
      // tfjs ops are slow, so it checks the training alone on a smaller problem
      const N = 256, D = 8, C = backend === 'wasm' ? 4000 : 200, STEPS = 32;
      const r = mulberry32(4);
      const xs = tf.tensor2d(Float32Array.from({ length: N * D }, () => r() * 2 - 1), [N, D]);
      const ys = tf.tensor1d(Int32Array.from({ length: N }, () => Math.floor(r() * C)), 'int32');
      const oneHot = tf.oneHot(ys, C).toFloat();
      const init = Float32Array.from({ length: D * C }, () => r() - 0.5);
      const [w1, w2, w3] = [0, 1, 2].map(() => tf.variable(tf.tensor2d(init, [D, C])));
      const [o1, o2, o3] = [0, 1, 2].map(() => tf.train.sgd(0.5));
      const buffer = backend === 'wasm' ? N * C * 4 : 0; // one gradient buffer in xent's memory (cpu: none)
      const withMetric = (check: boolean) => tf.tidy(() => o1.minimize(() => {
        const logits = tf.matMul(xs, w1);
        // a logged metric: on the tape, but not part of the objective, so its gradFunc never runs
        const metric = crossEntropyLoss(logits, ys, { labelSmoothing: 0.1 }).dataSync()[0];
        if (check) close([metric], tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0.1).dataSync(), 'metric');
        return crossEntropyLoss(logits, ys) as tf.Scalar;
      }, true)!.dataSync()[0]);
      const bytes: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        const a = withMetric(i === 0 || i === STEPS - 1);
        // the metric's buffer outlives its tape until the next crossEntropyLoss call, which frees it
        expect(allocatedFloat32Bytes(), `step ${i}, after the metric's tape`).toBe(buffer);
        const b = tf.tidy(() => o2.minimize(() => crossEntropyLoss(tf.matMul(xs, w2), ys) as tf.Scalar, true)!.dataSync()[0]);
        expect(allocatedFloat32Bytes(), `step ${i}, after the next call`).toBe(0);
        const c = tf.tidy(() => o3.minimize(() => tf.losses.softmaxCrossEntropy(oneHot, tf.matMul(xs, w3)) as tf.Scalar, true)!.dataSync()[0]);
        expect(a, `step ${i}: the metric changes nothing`).toBe(b);
        close([a], [c], `step ${i} vs tfjs`, { rtol: 1e-5, atol: 1e-5 });
        bytes.push(getBackendInfo().wasmMemoryBytes!);
      }
      expect(bytes[STEPS - 1]).toBe(bytes[2]); // WASM memory never shrinks: growth is what a leak looks like
      expect(Array.from(w1.dataSync())).toEqual(Array.from(w2.dataSync())); // bit-identical training
      // a tape dropped by a throw (no backward): its buffer goes at the first call under the next tape
      expect(() => tf.tidy(() => o1.minimize(() => {
        crossEntropyLoss(tf.matMul(xs, w1), ys);
        throw new Error('boom');
      }))).toThrow('boom');
      expect(allocatedFloat32Bytes()).toBe(buffer);
      withMetric(false);
      expect(allocatedFloat32Bytes()).toBe(buffer); // the thrown tape's freed, this metric's held
      // a loss outside any tape frees it too, and allocates nothing itself
      tf.tidy(() => crossEntropyLoss(tf.matMul(xs, w1), ys).dataSync());
      expect(allocatedFloat32Bytes()).toBe(0);
      expect(getBackendInfo().wasmMemoryBytes).toBe(bytes[2]);
      tf.dispose([xs, ys, oneHot, w1, w2, w3]);
      [o1, o2, o3].forEach((o) => o.dispose());
    });

    it('rejects wrong dtypes and shapes before tfjs sees anything, naming the argument', () => {
      const before = tf.memory().numTensors;
      const logits = tf.zeros([4, 3]);
      const cases: [unknown, unknown, unknown, ErrorConstructor, RegExp][] = [
        [logits, tf.tensor1d([1, 0, 1, 0], 'bool'), undefined, TypeError, /^target: expected int32 class indices or float32 probabilities, got bool/],
        [tf.zeros([4, 3], 'int32'), tf.zeros([4], 'int32'), undefined, TypeError, /^logits: expected a float32 tf\.Tensor, got int32/],
        [new Float32Array(12), tf.zeros([4], 'int32'), undefined, TypeError, /^logits: /],
        [logits, Int32Array.of(0, 1, 2, 0), undefined, TypeError, /^target: /],
        [logits, tf.zeros([3], 'int32'), undefined, RangeError, /^target: int32 class indices of shape \[3\] do not fit logits of shape \[4, 3\]/],
        [logits, tf.zeros([4, 4]), undefined, RangeError, /^target: float32 probabilities of shape \[4, 4\]/],
        [logits, tf.tensor1d([0, 1, 3, 0], 'int32'), undefined, RangeError, /target\[2\] = 3 is out of range/],
        [logits, tf.zeros([4], 'int32'), { gradOutput: 2 }, TypeError, /^options\.gradOutput/],
        [logits, tf.zeros([4], 'int32'), { reduction: 'avg' }, TypeError, /reduction/],
      ];
      const made = tf.memory().numTensors;
      for (const [l, t, o, type, message] of cases) {
        expect(() => crossEntropyLoss(l as tf.Tensor, t as tf.Tensor, o as never)).toThrow(type);
        expect(() => crossEntropyLoss(l as tf.Tensor, t as tf.Tensor, o as never)).toThrow(message);
      }
      expect(tf.memory().numTensors).toBe(made); // nothing created by the failed calls
      expect(made).toBeGreaterThan(before);
    });
  });
}
