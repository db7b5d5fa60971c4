import { SEVERITIES } from '../scan/types.ts';
import type { Policy, ScanRecord, StoredFinding } from '../store/results-types.ts';
import { isBlocking } from './policy.ts';
import { inertMarkdown, oneLine } from './inert-text.ts';
import { configChangeNote, rankFindings } from './publish.ts';

const LISTED = 10;

/**
 * The pull request's summary comment: the verdict in the first line, counts, the worst
 * findings, and a plain "all fixed" once a pull request that failed no longer does.
 * Secrets appear only as their masked preview.
 */
export function renderComment(input: { scan: ScanRecord; policy: Policy; previousResult: 'PASSED' | 'FAILED' | null; link: string }): string {
  const { scan, policy, previousResult, link } = input;
  const blocking = scan.findings.filter((f) => isBlocking(policy, f));
  const open = scan.findings.filter((f) => f.triage === undefined);
  const lines: string[] = [];
  if (scan.unfinished) {
    lines.push(`**Gatehouse: this pull request could not be fully scanned, so it is blocked.** ${scan.unfinished}`);
  } else if (blocking.length > 0) {
    lines.push(`**Gatehouse: ${blocking.length} new finding${blocking.length === 1 ? '' : 's'} at ${policy.threshold} or above block${blocking.length === 1 ? 's' : ''} this pull request.**`);
  } else if (previousResult === 'FAILED') {
    lines.push(
      open.some((f) => f.isNew)
        ? `**Gatehouse: the blocking findings are fixed.** What remains is below the ${policy.threshold} threshold.`
        : '**Gatehouse: everything reported earlier is fixed. Nothing new blocks this pull request.**',
    );
  } else if (open.length === 0) {
    lines.push('**Gatehouse: no secrets or vulnerable dependencies found.**');
  } else {
    lines.push(`**Gatehouse: nothing new at ${policy.threshold} or above.**`);
  }
  lines.push('');
  if (scan.configChanges) lines.push(`**Note:** ${inertMarkdown(configChangeNote(scan.configChanges))}`, '');
  lines.push('| Severity | New | Existing |', '| --- | --- | --- |');
  for (const severity of SEVERITIES) {
    const of = open.filter((f) => f.severity === severity);
    lines.push(`| ${severity} | ${of.filter((f) => f.isNew).length} | ${of.filter((f) => !f.isNew).length} |`);
  }
  const listed = rankFindings(open.filter((f) => f.isNew)).slice(0, LISTED);
  if (listed.length > 0) {
    lines.push('', 'New findings:');
    for (const f of listed) lines.push(`- ${describe(f)}`);
    const more = open.filter((f) => f.isNew).length - listed.length;
    if (more > 0) lines.push(`- and ${more} more in the report`);
  }
  const triaged = scan.findings.length - open.length;
  if (triaged > 0) lines.push('', `${triaged} finding${triaged === 1 ? ' is' : 's are'} marked ignored or false positive.`);
  // Skip notes name files, and file names are the pushing author's to choose: all repository text goes through inertMarkdown.
  if (scan.skipped.length > 0) lines.push('', ...scan.skipped.map((s) => `Not scanned: ${inertMarkdown(s)}.`));
  lines.push('', `Commit \`${scan.commit.slice(0, 12)}\` · [Security report](${link})`);
  return lines.join('\n');
}

function describe(f: StoredFinding): string {
  const where = codeSpan(`${f.path}${f.line > 0 ? `:${f.line}` : ''}`);
  if (f.kind === 'secret') return `**${f.severity}** ${inertMarkdown(f.description)} ${codeSpan(f.preview)} in ${where}`;
  const fix = f.fixedVersion ? `, fixed in ${inertMarkdown(f.fixedVersion)}` : '';
  return `**${f.severity}** ${inertMarkdown(f.package)} ${inertMarkdown(f.version)}: ${inertMarkdown(f.advisory)}${fix} (${where})`;
}

/** A code span that nothing inside can close: a backtick (in a path, in a secret's revealed characters) would let the rest render as markdown. */
function codeSpan(text: string): string {
  return `\`${oneLine(text).replaceAll('`', "'")}\``;
}
