/** Progress display: a cli-progress bar on a terminal, a line per milestone otherwise (CI logs). */
import cliProgress from 'cli-progress';

/** A progress reporter for one task of `total` units. */
export interface Progress {
  update(done: number, fields?: Record<string, string>): void;
  stop(summary?: string): void;
}

/** Creates a progress reporter on stderr. */
export function progress(label: string, total: number, quiet = false): Progress {
  if (quiet) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(22)} {bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return {
      update: (done, fields) => bar.update(done, { info: fields?.info ?? '' }),
      stop: (summary) => {
        bar.stop();
        if (summary) process.stderr.write(`${label}: ${summary}\n`);
      },
    };
  }
  // In a log: a line per 5% or per 30 s, whichever comes first, with an ETA from the rate so far
  // (counted from the first update, so a resumed sweep does not claim the old runs' speed).
  let lastTwentieth = -1;
  let lastAt = 0;
  let first: { done: number; at: number } | undefined;
  const t0 = performance.now();
  return {
    update: (done, fields) => {
      const now = performance.now();
      first ??= { done, at: now };
      const twentieth = Math.floor((20 * done) / total);
      if ((twentieth > lastTwentieth || now - lastAt > 30_000) && done < total) {
        lastTwentieth = twentieth;
        lastAt = now;
        const rate = (done - first.done) / (now - first.at);
        const eta = rate > 0 ? ` ETA ${formatSeconds((total - done) / rate / 1000)}` : '';
        const s = ((now - t0) / 1000).toFixed(1);
        process.stderr.write(`${label}: ${done}/${total} (${s}s${eta}) ${fields?.info ?? ''}\n`);
      }
    },
    stop: (summary) => {
      process.stderr.write(`${label}: done${summary ? `, ${summary}` : ''}\n`);
    },
  };
}

/** 75 -> "1m15s", 3725 -> "1h02m". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
