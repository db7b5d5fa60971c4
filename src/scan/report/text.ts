import { SEVERITIES, type Finding, type Severity } from '../types.ts';
import { compareFindings, type ScanReport } from './report.ts';

export interface TextOptions {
  /** ANSI colours; the CLI turns them on only for a terminal without NO_COLOR. */
  color: boolean;
}

const SEVERITY_STYLE: Record<Severity, string> = { critical: '1;31', high: '31', medium: '33', low: '36' };

type Paint = (style: string, text: string) => string;

/**
 * File names and messages come from the scanned repository; an escape sequence hidden in
 * one must not be able to rewrite the user's terminal, so control characters are shown
 * as `?`.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function location(finding: Finding): string {
  if (finding.line === 0) return 'file';
  return finding.kind === 'secret' && finding.column > 0 ? `${finding.line}:${finding.column}` : String(finding.line);
}

function describe(finding: Finding): string {
  if (finding.kind === 'secret') return `${finding.ruleId}  ${finding.description}: ${finding.preview}`;
  const fix = finding.fixedVersion !== undefined ? `; fixed in ${finding.fixedVersion}` : '; no fixed version';
  return `${finding.advisory}  ${finding.package} ${finding.version}: ${finding.summary || finding.message}${fix}`;
}

function summary(findings: Finding[], files: number, paint: Paint): string {
  if (findings.length === 0) return paint('32', 'No findings.');
  const counts = SEVERITIES.map((severity) => [severity, findings.filter((f) => f.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => paint(SEVERITY_STYLE[severity], `${count} ${severity}`));
  const noun = findings.length === 1 ? 'finding' : 'findings';
  return `${findings.length} ${noun} (${counts.join(', ')}) in ${files} ${files === 1 ? 'file' : 'files'}.`;
}

/** Findings grouped by file, in reading order, then a one-line summary. Notices are the caller's to print. */
export function formatText(report: ScanReport, options: TextOptions): string {
  const paint: Paint = options.color ? (style, text) => `\x1b[${style}m${text}\x1b[0m` : (_style, text) => text;
  const findings = [...report.findings].sort(compareFindings);
  const lines: string[] = [];
  let currentPath: string | undefined;
  let files = 0;
  for (const finding of findings) {
    if (finding.path !== currentPath) {
      if (currentPath !== undefined) lines.push('');
      currentPath = finding.path;
      files++;
      lines.push(paint('1', printable(finding.path)));
    }
    const severity = paint(SEVERITY_STYLE[finding.severity], finding.severity.toUpperCase().padEnd(8));
    lines.push(`  ${location(finding).padEnd(8)} ${severity}  ${printable(describe(finding))}`);
  }
  if (lines.length > 0) lines.push('');
  lines.push(summary(findings, files, paint));
  return lines.join('\n') + '\n';
}
