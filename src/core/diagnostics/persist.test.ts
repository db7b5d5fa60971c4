import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../log.ts';
import { DIAGNOSTICS_FILE, persistDiagnostics } from './persist.ts';
import { DiagnosticsRecorder } from './recorder.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('persistDiagnostics', () => {
  it('saves the counters at stop and restores them at the next start; an unreadable file starts afresh', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-diagnostics-'));
    dirs.push(dataDir);
    const logger = createLogger('silent');
    const first = new DiagnosticsRecorder();
    const kept = await persistDiagnostics(first, { dataDir, logger, intervalMs: 60_000 });
    first.delivery('tenant', 'pullrequest:created');
    first.call('tenant', { method: 'PUT', url: 'https://api.example/2.0/report', status: 403, error: null });
    await kept.stop();

    const second = new DiagnosticsRecorder();
    await (await persistDiagnostics(second, { dataDir, logger })).stop();
    expect(second.tenant('tenant')).toEqual(first.tenant('tenant'));

    await writeFile(path.join(dataDir, DIAGNOSTICS_FILE), '{ not json');
    const third = new DiagnosticsRecorder();
    const again = await persistDiagnostics(third, { dataDir, logger });
    expect(third.tenants()).toEqual([]);
    await again.stop();
    expect(JSON.parse(await readFile(path.join(dataDir, DIAGNOSTICS_FILE), 'utf8'))).toEqual({ version: 1, tenants: [] });
  });
});
