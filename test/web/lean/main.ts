/**
 * The smallest page a library user writes: `import * as lrfree from 'lrfree'`, pick a backend, train a
 * tiny regression with `lrfree.salsa()`. test/web/package.e2e.test.ts builds it with Vite and runs it in
 * Chromium; the page reports the backend and the loss curve on `document.body.dataset`.
 */
import * as tf from '@tensorflow/tfjs';
import * as lrfree from 'lrfree';

async function main(): Promise<void> {
  // `?backend=wasm` forces wasm, served the documented way: the package's .wasm files copied to ./tfjs-wasm/.
  const forced = new URLSearchParams(location.search).get('backend') as lrfree.BackendName | null;
  const backend = await lrfree.ready({
    quiet: true,
    backend: forced ?? undefined,
    wasmPaths: './tfjs-wasm/',
  });
  const x = tf.tidy(() => tf.randomNormal([64, 4], 0, 1, 'float32', 1));
  const y = tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d([1, -2, 0.5, 3])), 1, true));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh' }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  model.compile({ optimizer: lrfree.salsa(), loss: 'meanSquaredError' });
  const history = await model.fit(x, y, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
  const loss = history.history.loss as number[];
  const out = document.getElementById('out');
  if (out) out.textContent = `${backend}: loss ${loss[0].toFixed(4)} -> ${loss[loss.length - 1].toFixed(4)}`;
  document.body.dataset.result = JSON.stringify({ backend, loss, version: lrfree.version });
}

main().catch((e: unknown) => {
  document.body.dataset.error = String((e as Error)?.stack ?? e);
});
