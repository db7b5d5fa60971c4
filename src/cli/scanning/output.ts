import path from 'node:path';
import { REPORT_FORMATS, formatReport, type ScanReport } from '../../scan/report/index.ts';
import type { DependencyFinding, PackageRef } from '../../scan/types.ts';
import type { CliIo } from '../io.ts';

/** The report formats, plus a CycloneDX SBOM of the packages read, with their known vulnerabilities. */
export const SCAN_FORMATS = [...REPORT_FORMATS, 'cyclonedx'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

export interface ScanOutput extends ScanReport {
  packages: PackageRef[];
}

export async function writeScanReport(io: CliIo, format: ScanFormat, output: ScanOutput, options: { color: boolean }): Promise<void> {
  if (format !== 'cyclonedx') {
    io.stdout.write(formatReport(format, output, options));
    return;
  }
  // The CycloneDX library is large; only this format loads it.
  const { buildSbom } = await import('../../scan/sbom/cyclonedx.ts');
  const vulnerabilities = output.findings.filter((f): f is DependencyFinding => f.kind === 'dependency');
  io.stdout.write((await buildSbom(output.packages, { name: path.basename(io.cwd) || 'project' }, vulnerabilities)) + '\n');
}
