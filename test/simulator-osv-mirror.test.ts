import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchPackages, openVulnIndex, type PackageRef } from '../src/scan/deps/index.ts';
import { DEMO_ADVISORIES } from '../src/simulator/osv-advisories.ts';
import { createOsvMirror } from '../src/simulator/osv-mirror.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { updateVulnDb } from '../src/vulndb/update.ts';

// The mirror is served by the simulator's web origin as the `osv` extension; no app is needed
// for these tests (nothing is installed), so appBaseUrl points at a closed port.
let sim: Simulator;
let mirrorUrl: string;
let dataDir: string;

beforeAll(async () => {
  sim = await startSimulator({ appBaseUrl: 'http://127.0.0.1:9', webExtensions: { osv: createOsvMirror() } });
  mirrorUrl = `${sim.webOrigin}/_sim/ext/osv`;
  dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sim-osv-'));
});

afterAll(async () => {
  await sim.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const npm = (name: string, version: string): PackageRef => ({ ecosystem: 'npm', name, version, path: 'package-lock.json', line: 1 });

describe('simulator OSV mirror', () => {
  it('serves all.zip with one <id>.json per record of that ecosystem', async () => {
    const res = await fetch(`${mirrorUrl}/npm/all.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(entries).sort()).toEqual(['GHSA-29mw-wpgm-hmr9.json', 'GHSA-35jh-r3h4-6jhm.json', 'GHSA-xvch-5gv4-984h.json']);
    const lodash = JSON.parse(strFromU8(entries['GHSA-35jh-r3h4-6jhm.json']!)) as Record<string, unknown>;
    expect(lodash).toMatchObject({ id: 'GHSA-35jh-r3h4-6jhm', aliases: ['CVE-2021-23337'], schema_version: '1.4.0' });
  });

  it('lists modified_id.csv newest first and serves each record by id', async () => {
    const csv = await (await fetch(`${mirrorUrl}/npm/modified_id.csv`)).text();
    expect(csv).toBe('2024-05-20T21:31:18Z,GHSA-35jh-r3h4-6jhm\n2024-03-04T19:20:47Z,GHSA-29mw-wpgm-hmr9\n2024-02-16T08:23:41Z,GHSA-xvch-5gv4-984h\n');
    const one = await fetch(`${mirrorUrl}/PyPI/GHSA-j8r2-6x86-q33q.json`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(DEMO_ADVISORIES.find((r) => r.id === 'GHSA-j8r2-6x86-q33q'));
  });

  it('answers 404 for ecosystems, ids and files it does not have', async () => {
    for (const p of ['/Go/all.zip', '/npm/GHSA-0000-0000-0000.json', '/npm/GHSA-j8r2-6x86-q33q.json', '/npm/other.txt', '/npm']) {
      expect((await fetch(`${mirrorUrl}${p}`)).status, p).toBe(404);
    }
  });

  it('feeds the app\'s db update: the index flags the demo\'s pinned versions and not the fixed ones', async () => {
    const first = await updateVulnDb({ mirrorUrl, dataDir, ecosystems: ['npm', 'PyPI'] });
    expect(first.ecosystems.map((e) => [e.ecosystem, e.mode, e.total])).toEqual([
      ['npm', 'full', 3],
      ['PyPI', 'full', 1],
    ]);
    const db = openVulnIndex(dataDir);
    expect(db).not.toBeNull();
    const findings = matchPackages(db!, [npm('lodash', '4.17.20'), npm('minimist', '1.2.5'), npm('minimist', '1.2.6'), { ...npm('requests', '2.30.0'), ecosystem: 'PyPI' }]);
    const rows = findings.map((f) => [f.package, f.version, f.advisory, f.severity, f.fixedVersion]).sort((a, b) => String(a).localeCompare(String(b)));
    expect(rows).toEqual([
      ['lodash', '4.17.20', 'GHSA-29mw-wpgm-hmr9', 'medium', '4.17.21'],
      ['lodash', '4.17.20', 'GHSA-35jh-r3h4-6jhm', 'high', '4.17.21'],
      ['minimist', '1.2.5', 'GHSA-xvch-5gv4-984h', 'critical', '1.2.6'],
      ['requests', '2.30.0', 'GHSA-j8r2-6x86-q33q', 'medium', '2.31.0'],
    ]);

    // A second run reads modified_id.csv as a delta and finds nothing new.
    const second = await updateVulnDb({ mirrorUrl, dataDir, ecosystems: ['npm', 'PyPI'] });
    expect(second.changed).toBe(false);
    expect(second.ecosystems.map((e) => e.mode)).toEqual(['unchanged', 'unchanged']);
  });

  it('refuses records whose id could escape a file name', () => {
    expect(() => createOsvMirror([{ id: '../x', modified: '2024-01-01T00:00:00Z' }])).toThrow(/cannot be a file name/);
  });
});
