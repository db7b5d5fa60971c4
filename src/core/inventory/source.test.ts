import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import type { DependencyFinding, SecretFinding } from '../../scan/types.ts';
import { PgResultsStore } from '../../store/postgres/pg-results-store.ts';
import { JournalResultsStore } from '../../store/results-store.ts';
import type { ResultsStore, ScanRecord } from '../../store/results-types.ts';
import { decodeCursor, encodeCursor, inventoryEntities, type InventoryFilter, type Position } from './source.ts';

/**
 * The inventory sequence read from each ResultsStore: the same entities in the same order,
 * and the default branch put together from the whole-branch scan, the current inventory
 * and advisory monitoring's state.
 */
const C = 'ari:cloud:bitbucket::app/{cccccccc-0000-0000-0000-000000000000}/gatehouse';
const AT = '2026-02-01T00:00:00.000Z';
const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);

const dep = (name: string, version: string, fp: string, patch: Partial<DependencyFinding> = {}): DependencyFinding => ({
  kind: 'dependency', ruleId: `GHSA-${name}`, severity: 'high', path: 'package-lock.json', line: 2, fingerprint: fp.repeat(64), message: `${name} ${version}`,
  ecosystem: 'npm', package: name, version, advisory: `GHSA-${name}`, aliases: [], summary: '', ...patch,
});
const removed: SecretFinding = { kind: 'secret', ruleId: 'github-pat', severity: 'critical', path: 'deploy.sh', line: 4, fingerprint: '0'.repeat(64), message: 'GitHub token', description: 'GitHub', preview: 'ghp_****', secretHash: 'g', column: 1 };
const secret: SecretFinding = { kind: 'secret', ruleId: 'aws', severity: 'critical', path: '.env', line: 1, fingerprint: '1'.repeat(64), message: 'AWS key', description: 'AWS', preview: 'AKIA****', secretHash: 'h', column: 1 };

async function fill(results: ResultsStore): Promise<void> {
  const repo = (uuid: string, name: string, patch = {}) => ({ clientKey: C, uuid, fullName: `acme/${name}`, name, project: { key: 'PAY', name: 'Payments' }, isPrivate: true, mainBranch: 'main', sizeBytes: 1, language: null, updatedOn: AT, discoveredAt: AT, deletedAt: null, ...patch });
  await results.putRepository(repo('{1}', 'one'));
  await results.putRepository(repo('{2}', 'two', { project: null }));
  await results.putRepository(repo('{3}', 'gone', { deletedAt: AT }));
  // One: backfilled at OLD with a secret and two dependency findings; since pushed to NEW, which dropped left-pad.
  await results.putRepositoryCoverage({ clientKey: C, repoUuid: '{1}', runId: 'r', status: 'scanned', commit: OLD, files: 1, bytes: 1, findings: 3, skippedFiles: [], reason: null, updatedAt: AT });
  await results.putScan({ clientKey: C, repoUuid: '{1}', commit: OLD, kind: 'branch', prId: null, result: 'FAILED', counts: { critical: 1, high: 2, medium: 0, low: 0, new: 3, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: AT, findings: [{ ...secret, isNew: true }, { ...dep('lodash', '4.17.20', '2'), isNew: true }, { ...dep('left-pad', '1.0.0', '3'), isNew: true }] });
  await results.putInventory({ clientKey: C, repoUuid: '{1}', repoFullName: 'acme/one', branch: 'main', environment: null, commit: NEW, files: {}, packages: [{ ecosystem: 'npm', name: 'lodash', version: '4.17.20', path: 'package-lock.json', line: 2 }], sbom: '{}', updatedAt: AT });
  await results.putTriage({ clientKey: C, repoUuid: '{1}', fingerprint: secret.fingerprint, status: 'ignored', by: 'someone', at: AT, reason: 'test key' });
  // Two: no backfill yet, but monitoring evaluated its inventory and found a new advisory.
  await results.putInventory({ clientKey: C, repoUuid: '{2}', repoFullName: 'acme/two', branch: 'main', environment: null, commit: NEW, files: {}, packages: [{ ecosystem: 'npm', name: 'minimist', version: '1.2.0', path: 'package-lock.json', line: 2 }], sbom: '{}', updatedAt: AT });
  await results.putAdvisoryState({ clientKey: C, repoUuid: '{2}', branch: 'main', commit: NEW, findings: [{ ...dep('minimist', '1.2.0', '4'), isNew: true, newAdvisory: true, since: AT }], fixed: [{ finding: { ...dep('minimist', '1.2.0', '5'), isNew: true }, at: AT }], result: 'FAILED', changes: [], dbVersion: 'v', updatedAt: AT });
  // One's history: the secret still at the head (added by an old commit), and one removed since, in an older history scan replaced by a newer.
  const historyScan = (commit: string, createdAt: string, findings: ScanRecord['findings']): ScanRecord => ({ clientKey: C, repoUuid: '{1}', commit, kind: 'history', prId: null, branch: 'main', result: 'FAILED', counts: { critical: 2, high: 0, medium: 0, low: 0, new: 0, existing: 2, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt, findings });
  await results.putScan(historyScan(OLD, '2026-01-01T00:00:00.000Z', [{ ...removed, isNew: false, history: { commit: 'e'.repeat(40), authorDate: '2020-01-01T00:00:00Z' } }]));
  await results.putScan(historyScan(NEW, AT, [{ ...secret, isNew: false, history: { commit: 'c'.repeat(40), authorDate: '2021-05-06T07:08:09Z' } }, { ...removed, isNew: false, history: { commit: 'd'.repeat(40), authorDate: '2022-01-01T00:00:00Z' } }]));
  await results.putPullRequest({ clientKey: C, repoUuid: '{2}', repoFullName: 'acme/two', prId: 7, state: 'OPEN', sourceBranch: 'f', destinationBranch: 'main', publishedCommit: NEW, commentId: null, lastResult: 'PASSED', mergeCommit: null, updatedAt: AT });
  await results.putPullRequest({ clientKey: C, repoUuid: '{2}', repoFullName: 'acme/two', prId: 8, state: 'MERGED', sourceBranch: 'g', destinationBranch: 'main', publishedCommit: NEW, commentId: null, lastResult: 'PASSED', mergeCommit: null, updatedAt: AT });
}

async function collect(results: ResultsStore, filter: InventoryFilter = {}, after?: Position) {
  const out = [];
  for await (const { entity } of inventoryEntities(results, C, filter, after)) out.push(entity);
  return out;
}

function suite(name: string, open: () => Promise<{ results: ResultsStore; close: () => Promise<void> }>) {
  describe(`inventory sequence on ${name}`, () => {
    let results: ResultsStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ results, close } = await open());
      await fill(results);
    });
    afterAll(async () => close?.());

    it('puts each default branch together and orders the sequence by type and key', async () => {
      const all = await collect(results);
      expect(all.map((e) => `${e.type} ${e.id}`)).toEqual([
        'project project:PAY',
        'repository {1}', 'repository {2}', 'repository {3}',
        'pullRequest {2}#7',
        `finding {1}/${'0'.repeat(64)}`, `finding {1}/${'1'.repeat(64)}`, `finding {1}/${'2'.repeat(64)}`, `finding {1}/${'3'.repeat(64)}`,
        `finding {2}/${'4'.repeat(64)}`, `finding {2}/${'5'.repeat(64)}`,
        'component pkg:npm/lodash@4.17.20', 'component pkg:npm/minimist@1.2.0',
      ]);
      const byId = new Map(all.map((e) => [e.id, e as unknown as Record<string, unknown>]));
      expect(byId.get(`{1}/${'1'.repeat(64)}`)).toMatchObject({ state: 'triaged', triage: { status: 'ignored' }, commit: OLD, preview: 'AKIA****', inHistory: false, history: { commit: 'c'.repeat(40), authorDate: '2021-05-06T07:08:09Z' } });
      // Removed from the head, still in history: its own finding, with the commit that added it (from the newest history scan).
      expect(byId.get(`{1}/${'0'.repeat(64)}`)).toMatchObject({ state: 'open', inHistory: true, branch: 'main', commit: 'd'.repeat(40), path: 'deploy.sh', history: { commit: 'd'.repeat(40), authorDate: '2022-01-01T00:00:00Z' }, preview: 'ghp_****' });
      expect(byId.get(`{1}/${'2'.repeat(64)}`)).toMatchObject({ inHistory: false, history: null });
      expect(byId.get(`{1}/${'2'.repeat(64)}`)).toMatchObject({ state: 'open', fixedAt: null });
      expect(byId.get(`{1}/${'3'.repeat(64)}`)).toMatchObject({ state: 'fixed', fixedAt: AT, package: 'left-pad' });
      expect(byId.get(`{2}/${'4'.repeat(64)}`)).toMatchObject({ state: 'open', newAdvisory: true, since: AT, commit: NEW });
      expect(byId.get(`{2}/${'5'.repeat(64)}`)).toMatchObject({ state: 'fixed' });
      expect(byId.get('{1}')).toMatchObject({ verdict: 'FAILED', findings: { open: 2, triaged: 1, fixed: 1, newAdvisory: 0, inHistory: 1 }, components: 1 });
      expect(byId.get('{2}')).toMatchObject({ verdict: 'FAILED', project: null, findings: { open: 1, triaged: 0, fixed: 1, newAdvisory: 1, inHistory: 0 } });
      expect(byId.get('{3}')).toMatchObject({ deletedAt: AT, verdict: null });
    });

    it('continues after a cursor and filters', async () => {
      const all = await collect(results);
      for (let i = 0; i < all.length; i++) {
        const seen = [];
        for await (const step of inventoryEntities(results, C, {}, undefined)) {
          seen.push(step);
          if (seen.length === i + 1) break;
        }
        const cursor = decodeCursor(encodeCursor(seen[i]!.position))!;
        expect([...seen.map((s) => s.entity), ...(await collect(results, {}, cursor))]).toEqual(all);
      }
      expect((await collect(results, { types: ['finding'], state: 'open', severity: 'high' })).map((e) => e.id)).toEqual([`{1}/${'0'.repeat(64)}`, `{1}/${'2'.repeat(64)}`, `{2}/${'4'.repeat(64)}`]);
      expect((await collect(results, { types: ['finding'], newAdvisory: true })).map((e) => e.id)).toEqual([`{2}/${'4'.repeat(64)}`]);
      expect((await collect(results, { types: ['finding'], inHistory: true })).map((e) => e.id)).toEqual([`{1}/${'0'.repeat(64)}`]);
      expect((await collect(results, { repository: 'acme/two', types: ['component'] })).map((e) => e.id)).toEqual(['pkg:npm/minimist@1.2.0']);
      expect(decodeCursor('bm9wZQ')).toBeUndefined();
    });
  });
}

suite('the journal store', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-inventory-source-'));
  const results = new JournalResultsStore({ dataDir: dir });
  await results.open();
  return { results, close: async () => (await results.close(), await rm(dir, { recursive: true, force: true })) };
});

suite('PostgreSQL', async () => {
  const db: TestDatabase & { pool: pg.Pool } = await createMigratedDatabase();
  const results = new PgResultsStore({ pool: db.pool });
  await results.open();
  return { results, close: async () => (await results.close(), await db.drop()) };
});
