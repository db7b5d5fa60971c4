/**
 * A handful of OSV records for the simulator's mirror, shaped like the GitHub-reviewed
 * advisories in OSV's public export (schema 1.4, ECOSYSTEM ranges, a CVSS v3.1 vector,
 * GitHub's own rating in database_specific). Package names, affected ranges, identifiers and
 * vectors follow the published advisories; the prose is written for this project.
 */

export interface DemoOsvRecord {
  schema_version: string;
  id: string;
  modified: string;
  published: string;
  aliases: string[];
  summary: string;
  details: string;
  severity: { type: 'CVSS_V3'; score: string }[];
  affected: {
    package: { ecosystem: string; name: string; purl: string };
    ranges: { type: 'ECOSYSTEM' | 'SEMVER'; events: ({ introduced: string } | { fixed: string })[] }[];
    database_specific: { source: string };
  }[];
  references: { type: string; url: string }[];
  database_specific: { cwe_ids: string[]; severity: 'LOW' | 'MODERATE' | 'HIGH' | 'CRITICAL'; github_reviewed: boolean; github_reviewed_at: string; nvd_published_at: string };
}

function ghsaSource(id: string): string {
  return `https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/${id}.json`;
}

function npm(name: string): { ecosystem: string; name: string; purl: string } {
  return { ecosystem: 'npm', name, purl: `pkg:npm/${name}` };
}

export const DEMO_ADVISORIES: readonly DemoOsvRecord[] = [
  {
    schema_version: '1.4.0',
    id: 'GHSA-35jh-r3h4-6jhm',
    modified: '2024-05-20T21:31:18Z',
    published: '2021-05-06T16:05:51Z',
    aliases: ['CVE-2021-23337'],
    summary: 'Command injection through the variable option of lodash template',
    details:
      'The `template` function of lodash builds a function body from its `variable` option without checking it, so a caller that passes ' +
      'untrusted input there lets that input run as code in the process. Upgrade to 4.17.21, or never let users choose the option.',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [{ package: npm('lodash'), ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }], database_specific: { source: ghsaSource('GHSA-35jh-r3h4-6jhm') } }],
    references: [
      { type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' },
      { type: 'PACKAGE', url: 'https://github.com/lodash/lodash' },
    ],
    database_specific: { cwe_ids: ['CWE-77', 'CWE-94'], severity: 'HIGH', github_reviewed: true, github_reviewed_at: '2021-05-06T16:05:21Z', nvd_published_at: '2021-02-15T13:15:00Z' },
  },
  {
    schema_version: '1.4.0',
    id: 'GHSA-29mw-wpgm-hmr9',
    modified: '2024-03-04T19:20:47Z',
    published: '2022-01-06T20:30:46Z',
    aliases: ['CVE-2020-28500'],
    summary: 'Regular expression denial of service in lodash trim functions',
    details:
      'The patterns lodash uses in `toNumber`, `trim` and `trimEnd` backtrack badly on long runs of whitespace, so a crafted string can keep ' +
      'the event loop busy for a long time. Fixed in 4.17.21.',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' }],
    affected: [{ package: npm('lodash'), ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '4.0.0' }, { fixed: '4.17.21' }] }], database_specific: { source: ghsaSource('GHSA-29mw-wpgm-hmr9') } }],
    references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2020-28500' }],
    database_specific: { cwe_ids: ['CWE-1333'], severity: 'MODERATE', github_reviewed: true, github_reviewed_at: '2021-03-19T22:45:29Z', nvd_published_at: '2021-02-15T11:15:00Z' },
  },
  {
    schema_version: '1.4.0',
    id: 'GHSA-xvch-5gv4-984h',
    modified: '2024-02-16T08:23:41Z',
    published: '2022-03-18T00:01:09Z',
    aliases: ['CVE-2021-44906'],
    summary: 'Prototype pollution in minimist argument parsing',
    details:
      'minimist assigns nested keys from the command line without refusing `__proto__` and `constructor`, so arguments such as ' +
      '`--__proto__.polluted=yes` change Object.prototype for the whole process. Fixed in 0.2.4 and 1.2.6.',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [
      {
        package: npm('minimist'),
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.2.4' }] }],
        database_specific: { source: ghsaSource('GHSA-xvch-5gv4-984h') },
      },
      {
        package: npm('minimist'),
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { fixed: '1.2.6' }] }],
        database_specific: { source: ghsaSource('GHSA-xvch-5gv4-984h') },
      },
    ],
    references: [
      { type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-44906' },
      { type: 'PACKAGE', url: 'https://github.com/minimistjs/minimist' },
    ],
    database_specific: { cwe_ids: ['CWE-1321'], severity: 'CRITICAL', github_reviewed: true, github_reviewed_at: '2022-03-17T22:27:02Z', nvd_published_at: '2022-03-17T16:15:00Z' },
  },
  {
    schema_version: '1.4.0',
    id: 'GHSA-j8r2-6x86-q33q',
    modified: '2024-06-20T14:15:02Z',
    published: '2023-05-22T20:36:32Z',
    aliases: ['CVE-2023-32681'],
    summary: 'requests forwards the Proxy-Authorization header to the destination after an HTTPS redirect',
    details:
      'When a request goes through an authenticated proxy and the server redirects it to an HTTPS address, requests rebuilt the proxy ' +
      'credentials into the tunnelled request, so the destination server could read them. Fixed in 2.31.0.',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N' }],
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'requests', purl: 'pkg:pypi/requests' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.3.0' }, { fixed: '2.31.0' }] }],
        database_specific: { source: ghsaSource('GHSA-j8r2-6x86-q33q') },
      },
    ],
    references: [
      { type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2023-32681' },
      { type: 'PACKAGE', url: 'https://github.com/psf/requests' },
    ],
    database_specific: { cwe_ids: ['CWE-200'], severity: 'MODERATE', github_reviewed: true, github_reviewed_at: '2023-05-22T20:36:32Z', nvd_published_at: '2023-05-26T18:15:14Z' },
  },
];
