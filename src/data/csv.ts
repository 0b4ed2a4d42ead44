/**
 * A CSV reader for tabular data sets: numeric feature columns plus one label column. Every problem is
 * reported with the file, the line and the fix, because a data bug found here is one the diagnostics
 * do not have to find.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { checkKnownKeys, checkOneOf, LrfreeConfigError } from '../core/validate.js';

/** Options of {@link loadCsv} / {@link parseCsv}. */
export interface CsvOptions {
  /** Label column: a header name or a 0-based index. Default: the last column. */
  label?: string | number;
  /** Whether the first row names the columns. Default `auto`: a header when a cell of it is not a number. */
  header?: boolean | 'auto';
  /** Field separator. Default: `,`, or `;` / tab when the first line has those and no comma. */
  delimiter?: string;
  /**
   * `classification` (default): labels become one-hot classes (integers 0..k-1, or distinct strings in
   * sorted order). `regression`: the label is a number, y is [n, 1].
   */
  task?: 'classification' | 'regression';
}

/** A parsed table. */
export interface CsvData {
  /** Features [n, d], float32. */
  x: tf.Tensor2D;
  /** One-hot labels [n, k] (classification) or targets [n, 1] (regression). */
  y: tf.Tensor2D;
  featureNames: string[];
  /** Class names in label order (classification). */
  classNames: string[];
}

/** Splits one CSV line, honouring double quotes ("a,b" and "" escapes). */
function splitLine(line: string, delimiter: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (line.startsWith(delimiter, i)) {
      out.push(cur.trim());
      cur = '';
      i += delimiter.length - 1;
    } else cur += c;
  }
  if (quoted) return undefined;
  out.push(cur.trim());
  return out;
}

const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s));

/**
 * Parses CSV text. `name` (usually the path) and 1-based line numbers appear in every error.
 *
 * @example
 * ```ts
 * const { x, y } = parseCsv('a,b,label\n0.1,2,cat\n0.3,1,dog\n', 'pets.csv', { label: 'label' });
 * ```
 */
export function parseCsv(text: string, name: string, options: CsvOptions = {}): CsvData {
  checkKnownKeys('csv', options, ['label', 'header', 'delimiter', 'task']);
  const task = checkOneOf('csv', 'task', options.task ?? 'classification', [
    'classification',
    'regression',
  ] as const);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const rows: { line: number; cells: string[] }[] = [];
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const delimiter =
    options.delimiter ??
    (first.includes(',') ? ',' : first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',');
  lines.forEach((l, i) => {
    if (l.trim() === '' || l.startsWith('#')) return;
    const cells = splitLine(l, delimiter);
    if (!cells) {
      throw new LrfreeConfigError(
        `${name}:${i + 1}: unclosed double quote. Fix: close the quote or remove it.`,
      );
    }
    rows.push({ line: i + 1, cells });
  });
  if (rows.length === 0)
    throw new LrfreeConfigError(
      `${name}: the file has no data rows. Fix: point to a CSV with a header and rows.`,
    );
  const header = options.header ?? 'auto';
  const hasHeader = header === 'auto' ? rows[0].cells.some((c) => !isNumber(c)) : header;
  const width = rows[0].cells.length;
  const names = hasHeader ? rows[0].cells : rows[0].cells.map((_, j) => `column${j}`);
  const data = hasHeader ? rows.slice(1) : rows;
  if (data.length === 0)
    throw new LrfreeConfigError(
      `${name}: only a header, no data rows. Fix: add rows below line ${rows[0].line}.`,
    );
  if (width < 2) {
    throw new LrfreeConfigError(
      `${name}:${rows[0].line}: found 1 column with delimiter '${delimiter}'. Fix: the file needs feature columns and a label column; pass the right delimiter.`,
    );
  }
  let labelIndex: number;
  if (options.label === undefined) labelIndex = width - 1;
  else if (typeof options.label === 'number') {
    labelIndex = options.label;
    if (!Number.isInteger(labelIndex) || labelIndex < 0 || labelIndex >= width) {
      throw new LrfreeConfigError(
        `${name}: label column index ${options.label} does not exist; the file has columns 0..${width - 1}. Fix: pass an index in that range.`,
      );
    }
  } else {
    labelIndex = names.indexOf(options.label);
    if (labelIndex < 0) {
      const fix = hasHeader
        ? `Fix: use one of ${names.map((n) => `'${n}'`).join(', ')}.`
        : 'Fix: the file has no header row, so give the label column by its 0-based index.';
      throw new LrfreeConfigError(`${name}: label column '${options.label}' does not exist. ${fix}`);
    }
  }
  const d = width - 1;
  const features = new Float32Array(data.length * d);
  const labels: string[] = [];
  data.forEach((r, i) => {
    if (r.cells.length !== width) {
      throw new LrfreeConfigError(
        `${name}:${r.line}: this row has ${r.cells.length} fields, the ${hasHeader ? 'header' : 'first row'} has ${width} (delimiter '${delimiter}'). ` +
          'Fix: make every row have the same number of fields (quote fields that contain the delimiter).',
      );
    }
    let k = 0;
    r.cells.forEach((c, j) => {
      if (j === labelIndex) return;
      if (!isNumber(c)) {
        throw new LrfreeConfigError(
          `${name}:${r.line}: column '${names[j]}' is ${c === '' ? 'empty' : `'${c}'`}, not a number. ` +
            'Fix: feature columns must be numeric (encode categories as numbers, fill or drop missing values).',
        );
      }
      features[i * d + k++] = Number(c);
    });
    labels.push(r.cells[labelIndex]);
  });
  const featureNames = names.filter((_, j) => j !== labelIndex);
  if (task === 'regression') {
    const ys = labels.map((v, i) => {
      if (!isNumber(v)) {
        throw new LrfreeConfigError(
          `${name}:${data[i].line}: label '${v}' is not a number. Fix: a regression label must be numeric.`,
        );
      }
      return Number(v);
    });
    return {
      x: tf.tensor2d(features, [data.length, d]),
      y: tf.tensor2d(Float32Array.from(ys), [data.length, 1]),
      featureNames,
      classNames: [],
    };
  }
  const empty = labels.indexOf('');
  if (empty >= 0) {
    throw new LrfreeConfigError(
      `${name}:${data[empty].line}: the label is empty. Fix: give every row a label or drop the row.`,
    );
  }
  const integer = labels.every((v) => /^\d+$/.test(v));
  const classNames = integer
    ? Array.from({ length: Math.max(...labels.map(Number)) + 1 }, (_, i) => String(i))
    : [...new Set(labels)].sort();
  if (classNames.length < 2) {
    throw new LrfreeConfigError(
      `${name}: the label column '${names[labelIndex]}' has a single class. Fix: check the label column, or use task 'regression'.`,
    );
  }
  const index = new Map(classNames.map((c, i) => [c, i]));
  const ids = Int32Array.from(labels.map((v) => index.get(integer ? String(Number(v)) : v)!));
  return {
    x: tf.tensor2d(features, [data.length, d]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(ids, 'int32'), classNames.length).toFloat() as tf.Tensor2D),
    featureNames,
    classNames,
  };
}

/**
 * Reads a CSV file (see {@link parseCsv}); the caller disposes `x` and `y`.
 *
 * @example
 * ```ts
 * // no-run: reads the user's own iris.csv
 * const { x, y, classNames } = loadCsv('iris.csv', { label: 'species' });
 * ```
 */
export function loadCsv(path: string, options: CsvOptions = {}): CsvData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LrfreeConfigError(`cannot read ${path}: ${(e as Error).message}. Fix: check the path.`);
  }
  return parseCsv(text, path, options);
}
