import type { DependencyFinding, Finding, SecretFinding } from '../types.ts';
import { compareFindings, type ScanReport } from './report.ts';

/**
 * The CLI's `--format json` document (CONTRACT.md "Command line"). Fields are copied
 * one by one rather than spread, so that nothing a finding carries internally (such
 * as the secret's hash, which would let a weak password be guessed offline) leaks out.
 */
export function formatJson(report: ScanReport): string {
  const findings = [...report.findings].sort(compareFindings).map(toJson);
  return JSON.stringify({ findings, notices: report.notices }, null, 2) + '\n';
}

function toJson(finding: Finding): Record<string, unknown> {
  const common = {
    kind: finding.kind,
    ruleId: finding.ruleId,
    severity: finding.severity,
    path: finding.path,
    line: finding.line,
    fingerprint: finding.fingerprint,
    message: finding.message,
  };
  return finding.kind === 'secret' ? { ...common, ...secretFields(finding) } : { ...common, ...dependencyFields(finding) };
}

function secretFields(finding: SecretFinding) {
  return { column: finding.column, description: finding.description, preview: finding.preview };
}

function dependencyFields(finding: DependencyFinding) {
  return {
    ecosystem: finding.ecosystem,
    package: finding.package,
    version: finding.version,
    advisory: finding.advisory,
    aliases: finding.aliases,
    summary: finding.summary,
    ...(finding.fixedVersion !== undefined && { fixedVersion: finding.fixedVersion }),
    ...(finding.url !== undefined && { url: finding.url }),
  };
}
