import { formatJson } from './json.ts';
import type { ReportFormat, ScanReport } from './report.ts';
import { formatSarif } from './sarif.ts';
import { formatText } from './text.ts';

export { REPORT_FORMATS, compareFindings, type ReportFormat, type ScanReport } from './report.ts';
export { formatJson } from './json.ts';
export { formatSarif, toSarif } from './sarif.ts';
export { formatText, type TextOptions } from './text.ts';

export function formatReport(format: ReportFormat, report: ScanReport, options: { color: boolean } = { color: false }): string {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report);
    case 'text':
      return formatText(report, options);
  }
}
