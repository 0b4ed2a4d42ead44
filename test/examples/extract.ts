/**
 * Finds the code examples a reader copies: every `@example` block of the TSDoc in src/ and every ```ts block
 * in README.md and docs/**\/*.md. test/examples/examples.test.ts type-checks and runs each one.
 *
 * Conventions (docs/ARCHITECTURE.md "Examples are tested"):
 * - A block may use the names of the prelude (./prelude.ts: `tf`, `lrfree`, `model`, `x`, `y`, ...) without
 *   declaring them; names it imports or declares itself win over the prelude's.
 * - A block that is deliberately not a whole program says so in its info string: ```ts skip: <reason>
 *   (Markdown) or a first line `// skip: <reason>` (TSDoc). Skipped blocks are listed and counted by the test.
 * - A block that compiles but must not run (it starts a server, reads a user's file) says
 *   ```ts no-run: <reason> or `// no-run: <reason>`: it is type-checked only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Example {
  /** `src/optimizers/baselines.ts#2` or `docs/alrao.md#1` (1-based within the file). */
  id: string;
  file: string;
  /** 1-based line of the block's first code line in its file. */
  line: number;
  code: string;
  /** Why the block is not compiled at all. */
  skip?: string;
  /** Why the block is compiled but not run. */
  noRun?: string;
}

function walk(dir: string, ext: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, ext, out);
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

const MARK = /^\s*\/\/\s*(skip|no-run):\s*(.+)$/;

function withMarks(e: Omit<Example, 'skip' | 'noRun'>, info: string): Example {
  const ex: Example = { ...e };
  const fromInfo = info.match(/^(skip|no-run):\s*(.+)$/);
  const firstLine = e.code.split('\n')[0] ?? '';
  const fromCode = firstLine.match(MARK);
  const mark = fromInfo ?? fromCode;
  if (mark) {
    if (mark[1] === 'skip') ex.skip = mark[2].trim();
    else ex.noRun = mark[2].trim();
  }
  return ex;
}

/** The ```ts blocks inside the `@example` tags of one source file's doc comments. */
export function tsdocExamples(root: string, file: string): Example[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Example[] = [];
  let inExample = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].replace(/^\s*\*\s?/, '');
    if (/@example\b/.test(lines[i])) inExample = true;
    else if (/^\s*\*\s*@\w+/.test(lines[i]) || /\*\//.test(lines[i])) inExample = false;
    const open = inExample && text.match(/^```(ts|typescript)\s*(.*)$/);
    if (!open) continue;
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*\*\s?```\s*$/.test(lines[j]); j++) {
      code.push(lines[j].replace(/^\s*\*\s?/, ''));
    }
    out.push(
      withMarks(
        { id: `${file}#${out.length + 1}`, file, line: i + 2, code: code.join('\n') },
        open[2].trim(),
      ),
    );
    i = j;
  }
  return out;
}

/** The ```ts blocks of one Markdown file. */
export function markdownExamples(root: string, file: string): Example[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(ts|typescript)\s*(.*)$/);
    if (!open) continue;
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^```\s*$/.test(lines[j]); j++) code.push(lines[j]);
    out.push(
      withMarks(
        { id: `${file}#${out.length + 1}`, file, line: i + 2, code: code.join('\n') },
        open[2].trim(),
      ),
    );
    i = j;
  }
  return out;
}

/** Every example of the repository at `root`, in a stable order. */
export function allExamples(root: string): Example[] {
  const src = walk(join(root, 'src'), '.ts').map((p) => relative(root, p));
  const md = ['README.md', ...walk(join(root, 'docs'), '.md').map((p) => relative(root, p))];
  return [...src.flatMap((f) => tsdocExamples(root, f)), ...md.flatMap((f) => markdownExamples(root, f))];
}
