/** The terminal progress bar of AlraoModel.fit (`cli-progress`, loaded at call time, in a terminal only). */
import { nodeImport } from '../core/platform.js';

/** The part of a `cli-progress` bar that fit uses. */
export interface ProgressBar {
  start(total: number, value: number, payload: object): void;
  update(v: number, payload: object): void;
  stop(): void;
}

/** The part of `cli-progress` the bar uses. */
interface CliProgress {
  SingleBar: new (options: object, preset: object) => ProgressBar;
  Presets: { shades_classic: object };
}

/** A bar on stderr when it is a terminal; undefined elsewhere (browsers, pipes, CI logs). */
export async function progressBar(): Promise<ProgressBar | undefined> {
  if (typeof process === 'undefined' || !process.stderr?.isTTY) return undefined;
  const mod = await nodeImport<CliProgress & { default?: CliProgress }>(
    'cli-progress',
    'the Alrao progress bar',
  );
  const cli = mod.default ?? mod;
  return new cli.SingleBar(
    {
      format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss} | eta {eta}s',
      hideCursor: true,
    },
    cli.Presets.shades_classic,
  );
}
