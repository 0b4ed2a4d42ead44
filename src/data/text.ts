/**
 * A real text of over 1 MB shipped inside an npm package the project installs: TypeScript's own
 * `lib.dom.d.ts` (about 1.9 MB). Used by the character-level LSTM task.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LrfreeConfigError } from '../core/validate.js';

/** The text, its vocabulary (characters by id) and the text as ids; rare characters map to id 0. */
export function loadCharText(maxVocab = 96): { text: string; vocab: string[]; ids: Uint8Array } {
  let path: string;
  try {
    path = join(
      dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
      'lib',
      'lib.dom.d.ts',
    );
  } catch {
    throw new LrfreeConfigError(
      "the char-lstm text is TypeScript's lib.dom.d.ts, from the optional package typescript: npm i typescript@5.9.3",
    );
  }
  const text = readFileSync(path, 'utf8');
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const vocab = [
    '\u0000',
    ...[...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxVocab - 1)
      .map(([c]) => c),
  ];
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) ids[i] = index.get(text[i]) ?? 0;
  return { text, vocab, ids };
}
