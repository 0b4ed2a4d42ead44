/** A sweep worker thread: receives planned runs, runs them, posts the records back. */
import { parentPort, workerData } from 'node:worker_threads';
import { ready } from '../backend/ready.js';
import '../index.js';
import { importRegistrations } from './register.js';
import { runOne } from './runner.js';
import type { PlannedRun } from './suites.js';
import { taskByName } from './tasks/index.js';

const port = parentPort!;
const { backend, register } = workerData as { backend?: 'wasm' | 'cpu' | 'tensorflow'; register?: string[] };

// One wasm thread per worker: the sweep already runs one worker per core (several threads each would only
// oversubscribe the cores and pay the threaded build's start-up in every worker).
await ready({ backend, quiet: true, threads: 1 });
// The user's optimizers (`--register`), so that catalog names made by them resolve here too.
await importRegistrations(register ?? []);
port.on('message', async (run: PlannedRun | null) => {
  if (run === null) {
    port.close();
    process.exit(0);
  }
  try {
    const record = await runOne(taskByName(run.task), run.optimizer, run.seed, run.suite);
    port.postMessage({ ok: true, record });
  } catch (e) {
    port.postMessage({ ok: false, key: run.key, error: (e as Error).message });
  }
});
port.postMessage({ ready: true });
