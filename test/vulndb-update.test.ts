import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchPackages, openVulnIndex, type OsvRecord, type PackageRef } from '../src/scan/deps/index.ts';
import { VulnIndexError } from '../src/scan/deps/osv/index.ts';
import { VulnDbError } from '../src/vulndb/errors.ts';
import { formatSummary, updateVulnDb } from '../src/vulndb/update.ts';
import { acquireLock } from '../src/vulndb/store.ts';
import { modifiedCsv, osvZip, startFakeMirror, type FakeMirror } from './helpers/fake-osv-mirror.ts';

function record(id: string, ecosystem: string, name: string, fixed: string, modified: string, extra: Partial<OsvRecord> = {}): OsvRecord {
  return {
    id,
    modified,
    summary: `${name} is vulnerable (${id})`,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    ...extra,
  };
}

const lodash = record('GHSA-35jh-r3h4-6jhm', 'npm', 'lodash', '4.17.21', '2024-01-10T00:00:00Z', { aliases: ['CVE-2021-23337'] });
const minimist = record('GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.6', '2024-01-05T00:00:00Z');
const django = record('PYSEC-2021-98', 'PyPI', 'django', '3.2.5', '2024-01-07T00:00:00Z');

const npmPkg = (name: string, version: string): PackageRef => ({ ecosystem: 'npm', name, version, path: 'package-lock.json', line: 1 });

let mirror: FakeMirror;
let dataDir: string;
const logs: string[] = [];
const options = () => ({ mirrorUrl: mirror.url, dataDir, log: (l: string) => logs.push(l) });

function serve(ecosystem: string, records: OsvRecord[]): void {
  mirror.routes.set(`/${ecosystem}/all.zip`, { body: osvZip(records) });
  mirror.routes.set(`/${ecosystem}/modified_id.csv`, { body: modifiedCsv(records), contentType: 'text/csv' });
  for (const r of records) mirror.routes.set(`/${ecosystem}/${r.id}.json`, { body: JSON.stringify(r) });
}

function osvEntries(): string[] {
  return readdirSync(path.join(dataDir, 'osv')).sort();
}

beforeEach(async () => {
  mirror = await startFakeMirror();
  dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-vulndb-'));
  logs.length = 0;
});

afterEach(async () => {
  await mirror.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('db update', () => {
  it('first run downloads each all.zip, builds the index and makes it active', async () => {
    expect(openVulnIndex(dataDir)).toBeNull();
    serve('npm', [lodash, minimist]);
    serve('PyPI', [django]);
    const summary = await updateVulnDb({ ...options(), ecosystems: ['npm', 'PyPI'] });

    expect(summary.changed).toBe(true);
    expect(summary.previousVersion).toBeNull();
    expect(summary.ecosystems).toEqual([
      { ecosystem: 'npm', mode: 'full', added: 2, updated: 0, withdrawn: 0, total: 2 },
      { ecosystem: 'PyPI', mode: 'full', added: 1, updated: 0, withdrawn: 0, total: 1 },
    ]);
    expect(formatSummary(summary)).toMatch(/^npm\s+full\s+2 added, 0 updated, 0 withdrawn \(2 advisories\)/);
    expect(readFileSync(path.join(dataDir, 'osv/CURRENT'), 'utf8').trim()).toBe(summary.version);

    const db = openVulnIndex(dataDir);
    expect(db?.version).toBe(summary.version);
    expect(db?.ecosystems).toEqual(['npm', 'PyPI']);
    const findings = matchPackages(db!, [npmPkg('lodash', '4.17.20'), npmPkg('minimist', '1.2.6'), { ...npmPkg('Django', '3.2.4'), ecosystem: 'PyPI' }]);
    expect(findings.map((f) => [f.package, f.advisory, f.fixedVersion])).toEqual([
      ['lodash', 'GHSA-35jh-r3h4-6jhm', '4.17.21'],
      ['Django', 'PYSEC-2021-98', '3.2.5'],
    ]);
    // No staging folders or downloads left behind.
    expect(osvEntries()).toEqual(['CURRENT', summary.version]);
  });

  it('later runs apply modified_id.csv as a delta: added, updated and withdrawn records', async () => {
    serve('npm', [lodash, minimist]);
    const first = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const before = openVulnIndex(dataDir)!;
    expect(matchPackages(before, [npmPkg('minimist', '1.2.5')])).toHaveLength(1);

    const express = record('GHSA-rv95-896h-c2vc', 'npm', 'express', '4.19.2', '2024-03-01T00:00:00Z');
    const lodashFixedLater = { ...lodash, modified: '2024-03-02T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.22' }] }] }] };
    const minimistWithdrawn = { ...minimist, modified: '2024-03-03T00:00:00Z', withdrawn: '2024-03-03T00:00:00Z' };
    serve('npm', [lodashFixedLater, minimistWithdrawn, express]);
    mirror.requests.length = 0;

    const second = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    expect(second.ecosystems).toEqual([{ ecosystem: 'npm', mode: 'delta', added: 1, updated: 1, withdrawn: 1, total: 2 }]);
    expect(second.previousVersion).toBe(first.version);
    expect(mirror.requests).not.toContain('/npm/all.zip');
    expect(mirror.requests).toContain('/npm/modified_id.csv');

    // The same process sees the new version on its next open, without a restart.
    const after = openVulnIndex(dataDir)!;
    expect(after.version).toBe(second.version);
    expect(matchPackages(after, [npmPkg('minimist', '1.2.5')])).toEqual([]);
    expect(matchPackages(after, [npmPkg('express', '4.18.0')])[0]?.advisory).toBe('GHSA-rv95-896h-c2vc');
    expect(matchPackages(after, [npmPkg('lodash', '4.17.21')])[0]?.fixedVersion).toBe('4.17.22');
    // The index object handed out earlier keeps answering from its own version.
    expect(matchPackages(before, [npmPkg('minimist', '1.2.5')])).toHaveLength(1);
  });

  it('only fetches records modified since the last update, and writes nothing when none are', async () => {
    serve('npm', [lodash, minimist]);
    const first = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const old = record('GHSA-old0-0000-0000', 'npm', 'old', '1.0.0', '2023-01-01T00:00:00Z');
    // Tolerates a header row and the bucket-wide `<ecosystem>/<id>` spelling.
    mirror.routes.set('/npm/modified_id.csv', { body: `modified,id\n${modifiedCsv([lodash, minimist, old]).replace(/,GHSA/g, ',npm/GHSA')}` });
    mirror.requests.length = 0;

    const again = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    expect(again).toMatchObject({ changed: false, version: first.version });
    expect(again.ecosystems[0]?.mode).toBe('unchanged');
    // lodash sits exactly at the high-water mark and is re-checked; older records are not.
    expect(mirror.requests.filter((r) => r.endsWith('.json'))).toEqual(['/npm/GHSA-35jh-r3h4-6jhm.json']);
    expect(osvEntries()).toEqual(['CURRENT', first.version]);
  });

  it('falls back to the full archive when too many records changed', async () => {
    serve('npm', [lodash]);
    await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const many = Array.from({ length: 4 }, (_, i) => record(`GHSA-many-000${i}-0000`, 'npm', `pkg${i}`, '1.0.0', `2024-05-0${i + 1}T00:00:00Z`));
    serve('npm', [lodash, ...many]);
    mirror.requests.length = 0;
    const summary = await updateVulnDb({ ...options(), ecosystems: ['npm'], maxDeltaRecords: 2 });
    expect(summary.ecosystems[0]).toMatchObject({ mode: 'full', added: 4, total: 5 });
    expect(mirror.requests).toContain('/npm/all.zip');
  });

  it('keeps ecosystems it was not asked to update', async () => {
    serve('npm', [lodash]);
    serve('PyPI', [django]);
    await updateVulnDb({ ...options(), ecosystems: ['npm', 'PyPI'] });
    serve('npm', [lodash, minimist]);
    await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const db = openVulnIndex(dataDir)!;
    expect(db.ecosystems).toEqual(['npm', 'PyPI']);
    expect(db.advisoriesFor('PyPI', 'Django').map((a) => a.id)).toEqual(['PYSEC-2021-98']);
  });
});

describe('db update failures leave the previous database in use', () => {
  it('a connection dropped part-way through an archive', async () => {
    serve('npm', [lodash]);
    const first = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const zip = osvZip([django]);
    mirror.routes.set('/PyPI/all.zip', { body: zip, dropAfter: Math.floor(zip.length / 2) });

    await expect(updateVulnDb({ ...options(), ecosystems: ['npm', 'PyPI'] })).rejects.toThrow(/PyPI\/all\.zip was (interrupted|cut short)/);
    expect(openVulnIndex(dataDir)?.version).toBe(first.version);
    expect(osvEntries()).toEqual(['CURRENT', first.version]);

    // And the next run, with the mirror healthy again, succeeds.
    serve('PyPI', [django]);
    const retry = await updateVulnDb({ ...options(), ecosystems: ['npm', 'PyPI'] });
    expect(retry.ecosystems.map((e) => e.mode)).toEqual(['unchanged', 'full']);
  });

  it('a mirror that stops sending mid-archive is abandoned, not waited on forever', async () => {
    serve('npm', [lodash]);
    const first = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const zip = osvZip([django]);
    mirror.routes.set('/PyPI/all.zip', { body: zip, stallAfter: 40 });
    await expect(updateVulnDb({ ...options(), ecosystems: ['PyPI'], stallTimeoutMs: 300 })).rejects.toThrow(/PyPI\/all\.zip stalled after 40 bytes/);
    expect(openVulnIndex(dataDir)?.version).toBe(first.version);
  });

  it('an interrupted first run leaves no database at all', async () => {
    const zip = osvZip([lodash, minimist]);
    mirror.routes.set('/npm/all.zip', { body: zip, dropAfter: 10 });
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toBeInstanceOf(VulnDbError);
    expect(openVulnIndex(dataDir)).toBeNull();
    expect(osvEntries()).toEqual([]);
  });

  it('a file that is not a zip, and a zip cut short, are reported clearly', async () => {
    mirror.routes.set('/npm/all.zip', { body: '<html>Service Unavailable</html>' });
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow('npm/all.zip is not a zip archive');
    const zip = osvZip([lodash, minimist]);
    mirror.routes.set('/npm/all.zip', { body: zip.subarray(0, zip.length - 30) });
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow('npm/all.zip is truncated or corrupt');
    expect(openVulnIndex(dataDir)).toBeNull();
  });

  it('a corrupt deflate stream inside a well-formed zip', async () => {
    const zip = osvZip([lodash, minimist]);
    const broken = Uint8Array.from(zip);
    // Overwrite the middle of the first entry's compressed data.
    for (let i = 60; i < 90; i++) broken[i] = 0xff;
    mirror.routes.set('/npm/all.zip', { body: broken });
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow(/npm\/all\.zip.*(corrupt|readable)/);
  });

  it('the mirror failing the delta listing', async () => {
    serve('npm', [lodash]);
    const first = await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    mirror.routes.delete('/npm/modified_id.csv');
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow(/modified_id\.csv answered HTTP 404/);
    mirror.routes.set('/npm/modified_id.csv', { body: 'not,a,csv\n' });
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow(/unexpected line/);
    expect(openVulnIndex(dataDir)?.version).toBe(first.version);
  });

  it('an unreachable mirror and an unknown ecosystem', async () => {
    await expect(updateVulnDb({ ...options(), mirrorUrl: 'http://127.0.0.1:1', ecosystems: ['npm'] })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:1\/npm\/all\.zip/);
    await expect(updateVulnDb({ ...options(), ecosystems: ['Hackage' as 'npm'] })).rejects.toThrow(/unknown ecosystem Hackage/);
  });

  it('refuses to run alongside another live update', async () => {
    serve('npm', [lodash]);
    const lockDir = path.join(dataDir, 'osv');
    await updateVulnDb({ ...options(), ecosystems: ['npm'] });
    const release = await acquireLock(dataDir);
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).rejects.toThrow(/another db update is running/);
    await release();
    // A lock file left by a process that no longer exists is taken over.
    writeFileSync(path.join(lockDir, '.update.lock'), '999999999');
    await expect(updateVulnDb({ ...options(), ecosystems: ['npm'] })).resolves.toMatchObject({ changed: false });
    expect(existsSync(path.join(lockDir, '.update.lock'))).toBe(false);
  });
});

describe('openVulnIndex', () => {
  it('loads ecosystems lazily: a damaged npm file does not stop PyPI lookups', async () => {
    serve('npm', [lodash]);
    serve('PyPI', [django]);
    const { version } = await updateVulnDb({ ...options(), ecosystems: ['npm', 'PyPI'] });
    writeFileSync(path.join(dataDir, 'osv', version, 'npm.json'), '{"broken');
    // Force a reopen of this version by touching CURRENT.
    writeFileSync(path.join(dataDir, 'osv', 'CURRENT'), `${version}\n`);
    const db = openVulnIndex(dataDir)!;
    expect(db.advisoriesFor('PyPI', 'django')).toHaveLength(1);
    expect(() => db.advisoriesFor('npm', 'lodash')).toThrow(VulnIndexError);
  });

  it('reports a CURRENT pointer that names no version', () => {
    mkdirp(path.join(dataDir, 'osv'));
    writeFileSync(path.join(dataDir, 'osv', 'CURRENT'), '../../etc\n');
    expect(() => openVulnIndex(dataDir)).toThrow(/does not name a database version/);
  });
});

function mkdirp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
