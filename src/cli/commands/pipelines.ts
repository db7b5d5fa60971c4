import { formatReport } from '../../scan/report/index.ts';
import { SEVERITIES } from '../../scan/types.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { InputError, UsageError } from '../errors.ts';
import { PIPELINES_HELP } from '../help.ts';
import { notice, type CliIo } from '../io.ts';
import { insightsReport } from '../pipelines/insights.ts';
import { sendThroughProxy } from '../pipelines/proxy.ts';
import { SCAN_OPTIONS, scanRequestOf, scanWith } from './scan.ts';

const REPORT_ID = 'gatehouse-security';

function required(io: CliIo, name: string): string {
  const value = io.env[name]?.trim();
  if (!value) throw new InputError(`${name} is not set: "pipelines report" runs inside a Bitbucket Pipelines step`);
  return value;
}

function urlOption(flag: string, value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:') return url;
  } catch {
    // reported below
  }
  throw new UsageError(`${flag} must be an http:// URL (got ${JSON.stringify(value)})`);
}

/**
 * `gatehouse pipelines report`: scans the step's clone (or what the branch adds) and puts
 * the result on the commit being built as a Code Insights report, through the pipeline's
 * authenticating proxy. The exit status is the scan's, after publishing, so a failing step
 * still leaves its report on the commit.
 */
export async function runPipelines(argv: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(PIPELINES_HELP);
    return subcommand === undefined ? 2 : 0;
  }
  if (subcommand !== 'report') throw new UsageError(`pipelines: unknown subcommand ${JSON.stringify(subcommand)} (expected "report")`);
  const options = { ...SCAN_OPTIONS, proxy: { type: 'string' }, api: { type: 'string' } } as const;
  const args = parseCommandArgs('pipelines report', rest, options, true);
  if (args.help) {
    io.stdout.write(PIPELINES_HELP);
    return 0;
  }
  const values = args.values as Record<string, string | boolean | undefined>;
  if (values.staged === true || values['update-baseline'] === true) throw new UsageError('pipelines report: --staged and --update-baseline belong to "gatehouse scan"');
  const failOn = oneOf('--fail-on', values['fail-on'] as string | undefined, SEVERITIES, 'high');
  const proxy = urlOption('--proxy', (values.proxy as string | undefined) ?? 'http://localhost:29418');
  const api = urlOption('--api', (values.api as string | undefined) ?? 'http://api.bitbucket.org');
  const workspace = io.env.BITBUCKET_WORKSPACE?.trim() || required(io, 'BITBUCKET_REPO_OWNER');
  const slug = required(io, 'BITBUCKET_REPO_SLUG');
  const commit = required(io, 'BITBUCKET_COMMIT');

  const request = scanRequestOf(values, args.positionals);
  const { findings, notices } = await scanWith(io, request);
  const what = request.since === undefined ? 'the repository' : `the changes since ${request.since}`;
  const { report, annotationBatches } = insightsReport(findings, notices, failOn, what);

  const reportUrl = new URL(`/2.0/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}/commit/${encodeURIComponent(commit)}/reports/${REPORT_ID}`, api);
  // Annotations outlive a report PUT: a re-run of the step starts from an empty report.
  await sendThroughProxy(proxy, 'DELETE', reportUrl, undefined);
  await sendThroughProxy(proxy, 'PUT', reportUrl, report);
  for (const batch of annotationBatches) await sendThroughProxy(proxy, 'POST', new URL(`${reportUrl.pathname}/annotations`, api), batch);

  for (const message of notices) notice(io, message);
  io.stdout.write(formatReport('text', { findings, notices }, { color: false }));
  notice(io, `published Code Insights report "${REPORT_ID}" (${report.result as string}) on ${commit.slice(0, 12)}.`);
  return report.result === 'FAILED' ? 1 : 0;
}
