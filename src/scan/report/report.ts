import { SEVERITY_RANK, type Finding } from '../types.ts';

/** What a scan hands to a formatter: the findings, and notices about what could not be checked. */
export interface ScanReport {
  findings: Finding[];
  /** Sentences for the user, e.g. that no vulnerability database is installed. */
  notices: string[];
}

export const REPORT_FORMATS = ['text', 'json', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Reading order: by path, then line, then worst severity first, then rule. */
export function compareFindings(a: Finding, b: Finding): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  const columnA = a.kind === 'secret' ? a.column : 0;
  const columnB = b.kind === 'secret' ? b.column : 0;
  if (columnA !== columnB) return columnA - columnB;
  if (a.severity !== b.severity) return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
  return a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0;
}
