/**
 * Red flags (probably a bug in the code or the data) are listed apart from warnings about the setting, in
 * the terminal summary and in the HTML report: a clean problem can get advice without a red flag.
 */
import { describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/diagnose.js';
import type { ProcedureState } from '../../src/diagnostics/procedure.js';
import type { RedFlag } from '../../src/diagnostics/redFlags.js';
import { procedureReport } from '../../src/report/diagnosticsCharts.js';

const bug: RedFlag = {
  id: 'chanceAccuracy',
  severity: 'bug',
  confidence: 'high',
  message: 'held-out accuracy is at chance after every run',
  action: 'check that labels and inputs are aligned',
};
const warning: RedFlag = {
  id: 'slowToLearn',
  severity: 'warning',
  confidence: 'medium',
  message: 'at chance after every run, but the inputs carry signal',
  action: 'standardise the inputs, train longer',
};

function state(redFlags: RedFlag[]): ProcedureState {
  return {
    version: 1,
    completed: [],
    skipped: {},
    ms: {},
    recommendations: {},
    redFlags,
    settings: { epochs: 1, batchSize: 32, seed: 1, trainSize: 100, classes: 2 },
  };
}

const section = (text: string, title: string) => {
  const start = text.indexOf(`${title}:\n`);
  if (start < 0) return undefined;
  const rest = text.slice(start + title.length + 2);
  const end = rest.indexOf('\n\n');
  return end < 0 ? rest : rest.slice(0, end);
};

describe('red flags and warnings about the setting', () => {
  it('the terminal summary lists a warning apart, and says "none" under red flags when only warnings remain', () => {
    const onlyWarning = summary(state([warning]), 'toy');
    expect(section(onlyWarning, 'red flags')).toBe('  none');
    expect(section(onlyWarning, 'warnings about the setting')).toContain('slowToLearn');
    const both = summary(state([bug, warning]), 'toy');
    expect(section(both, 'red flags')).toContain('chanceAccuracy');
    expect(section(both, 'red flags')).not.toContain('slowToLearn');
    expect(section(both, 'warnings about the setting')).toContain('slowToLearn');
    expect(section(summary(state([]), 'toy'), 'warnings about the setting')).toBeUndefined();
  });

  it('the HTML report has a "Red flags" section of bugs only and a separate warnings section', () => {
    const report = procedureReport(state([bug, warning]));
    const flags = report.sections.find((s) => s.title === 'Red flags')!;
    const warnings = report.sections.find((s) => s.title === 'Warnings about the setting')!;
    expect(flags.warnings).toHaveLength(1);
    expect(flags.warnings![0]).toContain('chanceAccuracy');
    expect(warnings.warnings).toHaveLength(1);
    expect(warnings.warnings![0]).toContain('slowToLearn');
    const clean = procedureReport(state([warning]));
    expect(clean.sections.find((s) => s.title === 'Red flags')!.warnings).toHaveLength(0);
    expect(clean.sections.find((s) => s.title === 'Red flags')!.text?.[0]).toMatch(/^None/);
  });
});
