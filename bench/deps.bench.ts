// Dependency scanning figures: parsing a 5,000-package package-lock.json, building the
// index through `db update` from a loopback mirror, loading it, and matching.
// Target from issue 3: matching a 5,000-package lockfile in under 200 ms once loaded.
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { matchPackages, openVulnIndex, parseLockfile, type OsvRecord } from '../src/scan/deps/index.ts';
import { updateVulnDb } from '../src/vulndb/update.ts';
import { modifiedCsv, osvZip, startFakeMirror } from '../test/helpers/fake-osv-mirror.ts';

const PACKAGES = 5_000;
// Roughly the shape of OSV's npm export: a few thousand GitHub advisories over a few thousand
// packages, and a much larger number of malicious-package records listing exact versions.
const ADVISORY_PACKAGES = 4_000;
const ADVISORIES = 12_000;
const MALICIOUS = 80_000;

/** Small deterministic PRNG so every run measures the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const random = rng(42);
const pick = (n: number): number => Math.floor(random() * n);
const version = (): string => `${pick(5)}.${pick(20)}.${pick(30)}`;
const name = (i: number): string => (i % 7 === 0 ? `@scope${i % 13}/pkg-${i}` : `pkg-${i}`);

function lockfile(): string {
  const packages: Record<string, unknown> = { '': { name: 'bench-app', version: '1.0.0', dependencies: {} as Record<string, string> } };
  const root = packages[''] as { dependencies: Record<string, string> };
  for (let i = 0; i < PACKAGES; i++) {
    const n = name(i);
    // One package in ten is a nested second copy, as hoisting conflicts produce.
    const folder = i % 10 === 9 ? `node_modules/${name(i - 1)}/node_modules/${n}` : `node_modules/${n}`;
    const deps: Record<string, string> = {};
    for (let d = 0; d < 3; d++) deps[name(pick(PACKAGES))] = '^1.0.0';
    if (i < 300) root.dependencies[n] = `^${version()}`;
    packages[folder] = {
      version: version(),
      resolved: `https://registry.npmjs.org/${n}/-/${n.split('/').pop()}-1.0.0.tgz`,
      integrity: `sha512-${Buffer.from(n).toString('base64')}`,
      dependencies: deps,
    };
  }
  return JSON.stringify({ name: 'bench-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2);
}

function advisories(): OsvRecord[] {
  const records: OsvRecord[] = [];
  const modified = '2024-06-01T00:00:00Z';
  for (let i = 0; i < ADVISORIES; i++) {
    // Half the advisories land on packages the lockfile has, so matching does real range work.
    const target = i % 2 === 0 ? pick(PACKAGES) : PACKAGES + pick(ADVISORY_PACKAGES);
    const introduced = `${pick(3)}.${pick(10)}.0`;
    records.push({
      id: `GHSA-${i.toString(36).padStart(4, '0')}-bnch-mark`,
      modified,
      aliases: [`CVE-2024-${10000 + i}`],
      summary: `Prototype pollution in ${name(target)}`,
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N' }],
      affected: [
        {
          package: { ecosystem: 'npm', name: name(target) },
          ranges: [{ type: 'SEMVER', events: [{ introduced }, { fixed: `${pick(4) + 3}.${pick(10)}.${pick(10)}` }, { introduced: '9.0.0' }, { last_affected: '9.2.0' }] }],
        },
      ],
      database_specific: { severity: 'HIGH' },
    });
  }
  for (let i = 0; i < MALICIOUS; i++) {
    records.push({
      id: `MAL-2024-${i}`,
      modified,
      summary: 'Malicious code in a typosquatted package',
      affected: [{ package: { ecosystem: 'npm', name: `typo-${i}` }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }], versions: ['1.0.0', '1.0.1'] }],
    });
  }
  return records;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;

// Figures on a shared machine move with its load; print it so they can be read in context.
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
const text = lockfile();
const parseTimes: number[] = [];
let refs = parseLockfile('package-lock.json', text);
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  refs = parseLockfile('package-lock.json', text);
  parseTimes.push(performance.now() - t);
}
console.log(`lockfile: ${refs.length} packages, ${(text.length / 1e6).toFixed(2)} MB`);
console.log(`parse package-lock.json: median ${ms(median(parseTimes))}`);

const mirror = await startFakeMirror();
const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-deps-bench-'));
try {
  {
    // Scoped so the generated records can be collected before anything is measured.
    const records = advisories();
    const zipStart = performance.now();
    const zip = osvZip(records, 1);
    console.log(`generated all.zip: ${records.length} records, ${(zip.length / 1e6).toFixed(1)} MB (${ms(performance.now() - zipStart)})`);
    mirror.routes.set('/npm/all.zip', { body: zip });
    mirror.routes.set('/npm/modified_id.csv', { body: modifiedCsv(records.slice(0, 10)) });
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const updateStart = performance.now();
  await updateVulnDb({ mirrorUrl: mirror.url, dataDir, ecosystems: ['npm'] });
  console.log(`db update (download, unzip, index, swap): ${ms(performance.now() - updateStart)}`);
  mirror.routes.clear();
  gc?.();
  const version = readFileSync(path.join(dataDir, 'osv', 'CURRENT'), 'utf8').trim();
  console.log(`npm index file: ${(statSync(path.join(dataDir, 'osv', version, 'npm.json')).size / 1e6).toFixed(1)} MB`);

  const loadTimes: number[] = [];
  let db = openVulnIndex(dataDir);
  for (let i = 0; i < 3; i++) {
    // Touching CURRENT makes openVulnIndex treat it as a new version and reload from disk.
    const when = new Date(Date.now() + (i + 1) * 1000);
    utimesSync(path.join(dataDir, 'osv', 'CURRENT'), when, when);
    const t = performance.now();
    db = openVulnIndex(dataDir);
    db?.advisoriesFor('npm', 'lodash');
    loadTimes.push(performance.now() - t);
  }
  if (!db) throw new Error('no database after update');
  console.log(`index load (npm, cold): median ${ms(median(loadTimes))}; heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);

  const reopen = performance.now();
  openVulnIndex(dataDir);
  console.log(`openVulnIndex when unchanged: ${ms(performance.now() - reopen)}`);

  gc?.();
  const matchTimes: number[] = [];
  let findings = matchPackages(db, refs);
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    findings = matchPackages(db, refs);
    matchTimes.push(performance.now() - t);
  }
  const sorted = [...matchTimes].sort((a, b) => a - b);
  console.log(`match ${refs.length} packages: median ${ms(median(matchTimes))}, worst ${ms(sorted[sorted.length - 1] ?? 0)} (target < 200 ms); ${findings.length} findings`);
} finally {
  await mirror.close();
  rmSync(dataDir, { recursive: true, force: true });
}
