import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding, Severity } from '../types.ts';
import { compareFindings, type ScanReport } from './report.ts';
import { TOOL } from './tool.ts';

const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

const LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };

/**
 * `security-severity` is the CVSS-like score that code-scanning UIs (GitHub, GitLab) read
 * to rank security results; SARIF's own `level` has only three steps for four severities.
 */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '2.0' };

/** Paths become URI references: each segment percent-encoded, the slashes kept. */
function toUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function ruleFor(finding: Finding): ReportingDescriptor {
  const tags = finding.kind === 'secret' ? ['security', 'secret'] : ['security', 'dependency', 'vulnerability'];
  const description = finding.kind === 'secret' ? finding.description : finding.summary || finding.advisory;
  return {
    id: finding.ruleId,
    shortDescription: { text: description },
    ...(finding.kind === 'dependency' && finding.url !== undefined && { helpUri: finding.url }),
    defaultConfiguration: { level: LEVEL[finding.severity] },
    properties: { tags, 'security-severity': SECURITY_SEVERITY[finding.severity] },
  };
}

function resultFor(finding: Finding, ruleIndex: number): Result {
  const column = finding.kind === 'secret' && finding.column > 0 ? { startColumn: finding.column } : {};
  const properties =
    finding.kind === 'secret'
      ? { severity: finding.severity, kind: finding.kind, preview: finding.preview }
      : {
          severity: finding.severity,
          kind: finding.kind,
          ecosystem: finding.ecosystem,
          package: finding.package,
          version: finding.version,
          advisory: finding.advisory,
          aliases: finding.aliases,
          ...(finding.fixedVersion !== undefined && { fixedVersion: finding.fixedVersion }),
        };
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: toUri(finding.path) },
          // Line 0 is a whole-file finding: SARIF says so by leaving the region out.
          ...(finding.line > 0 && { region: { startLine: finding.line, ...column } }),
        },
      },
    ],
    partialFingerprints: { 'gatehouse/v1': finding.fingerprint },
    properties,
  };
}

/** A SARIF 2.1.0 log with one run: every rule that produced a finding, and the findings as results. */
export function toSarif(report: ScanReport): Log {
  const findings = [...report.findings].sort(compareFindings);
  const rules: ReportingDescriptor[] = [];
  const ruleIndex = new Map<string, number>();
  const results = findings.map((finding) => {
    let index = ruleIndex.get(finding.ruleId);
    if (index === undefined) {
      index = rules.push(ruleFor(finding)) - 1;
      ruleIndex.set(finding.ruleId, index);
    }
    return resultFor(finding, index);
  });
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: TOOL.name, version: TOOL.version, rules } },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: report.notices.map((text) => ({ level: 'warning' as const, message: { text } })),
          },
        ],
        results,
      },
    ],
  };
}

export function formatSarif(report: ScanReport): string {
  return JSON.stringify(toSarif(report), null, 2) + '\n';
}
