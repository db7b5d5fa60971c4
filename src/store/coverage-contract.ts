import { describe, expect, it } from 'vitest';
import type { ApiTokenRecord, CoverageState, RepositoryCoverage, RepositoryRecord } from './coverage-types.ts';
import type { ResultsStoreFactory } from './results-contract.ts';
import type { AdvisoryState, InventoryRecord, ResultsStore } from './results-types.ts';
import { storagePerTest } from './contract-storage.ts';

/**
 * The coverage part of every ResultsStore (repositories, backfill entries, coverage state,
 * API tokens), with the same factory as the results contract.
 */

const A = 'ari:cloud:bitbucket::app/{aaaaaaaa-0000-0000-0000-000000000000}/gatehouse';
const B = 'ari:cloud:bitbucket::app/{bbbbbbbb-0000-0000-0000-000000000000}/gatehouse';
const AT = '2026-01-02T03:04:05.000Z';

const repo = (clientKey: string, uuid: string, patch: Partial<RepositoryRecord> = {}): RepositoryRecord => ({
  clientKey, uuid, fullName: `acme/${uuid.slice(1, 5)}`, name: uuid.slice(1, 5), project: { key: 'PROJ', name: 'Project' }, isPrivate: true,
  mainBranch: 'main', sizeBytes: 1234, language: 'typescript', updatedOn: AT, discoveredAt: AT, deletedAt: null, ...patch,
});

const entry = (clientKey: string, repoUuid: string, patch: Partial<RepositoryCoverage> = {}): RepositoryCoverage => ({
  clientKey, repoUuid, runId: 'run-1', status: 'scanned', commit: 'a'.repeat(40), files: 10, bytes: 2048, findings: 1,
  skippedFiles: ['logo.png: binary'], reason: null, updatedAt: AT, ...patch,
});

const state = (clientKey: string, patch: Partial<CoverageState> = {}): CoverageState => ({
  clientKey, state: 'running', autoBackfill: true, runId: 'run-1', runStartedAt: AT, runFinishedAt: null, lastDiscoveryAt: AT,
  changes: [{ kind: 'added', repoUuid: '{r1}', fullName: 'acme/r1', at: AT }], updatedAt: AT, ...patch,
});

const token = (clientKey: string, id: string, hash: string): ApiTokenRecord => ({ id, clientKey, name: `ci ${id}`, hash, createdBy: '{u1}', createdAt: AT, lastUsedAt: null });

const advisory = (clientKey: string, repoUuid: string, patch: Partial<AdvisoryState> = {}): AdvisoryState => ({
  clientKey, repoUuid, branch: 'main', commit: 'c'.repeat(40),
  findings: [{ kind: 'dependency', ruleId: 'GHSA-1', severity: 'high', path: 'package-lock.json', line: 3, fingerprint: 'f'.repeat(64), message: 'm', ecosystem: 'npm', package: 'left-pad', version: '1.0.0', advisory: 'GHSA-1', aliases: [], summary: 's', url: 'https://osv.dev/vulnerability/GHSA-1', isNew: true, newAdvisory: true, since: AT }],
  fixed: [], result: 'FAILED', changes: [{ at: AT, from: 'PASSED', to: 'FAILED', advisories: ['GHSA-1'], publishedAt: null }], dbVersion: 'v1', updatedAt: AT, ...patch,
});

const inventory = (clientKey: string, repoUuid: string, branch: string): InventoryRecord => ({
  clientKey, repoUuid, repoFullName: 'acme/r', branch, environment: null, commit: 'c'.repeat(40), files: {}, packages: [], sbom: '{}', updatedAt: AT,
});

export function coverageStoreContract(name: string, make: ResultsStoreFactory): void {
  describe(`ResultsStore coverage contract: ${name}`, () => {
    let store: ResultsStore;
    const reopen = storagePerTest(make, (opened) => (store = opened));

    it('keeps repositories, backfill entries, coverage state and tokens across a reopen, the latest per key winning', async () => {
      await store.putRepository(repo(A, '{r1}'));
      await store.putRepository(repo(A, '{r1}', { fullName: 'acme/renamed' }));
      await store.putRepository(repo(A, '{r2}', { mainBranch: null }));
      await store.putRepositoryCoverage(entry(A, '{r1}', { status: 'pending' }));
      await store.putRepositoryCoverage(entry(A, '{r1}'));
      await store.putCoverage(state(A, { state: 'discovering' }));
      await store.putCoverage(state(A));
      await store.putApiToken(token(A, 't1', 'h'.repeat(64)));
      const again = await reopen();
      expect((await again.listRepositories(A)).sort((a, b) => a.uuid.localeCompare(b.uuid))).toEqual([repo(A, '{r1}', { fullName: 'acme/renamed' }), repo(A, '{r2}', { mainBranch: null })]);
      expect(await again.getRepository(A, '{r1}')).toEqual(repo(A, '{r1}', { fullName: 'acme/renamed' }));
      expect(await again.listRepositoryCoverage(A)).toEqual([entry(A, '{r1}')]);
      expect(await again.getCoverage(A)).toEqual(state(A));
      expect(await again.listApiTokens(A)).toEqual([token(A, 't1', 'h'.repeat(64))]);
      expect(await again.findApiToken('h'.repeat(64))).toEqual(token(A, 't1', 'h'.repeat(64)));
    });

    it('keeps installations apart', async () => {
      await store.putRepository(repo(A, '{r1}'));
      await store.putRepositoryCoverage(entry(A, '{r1}'));
      await store.putCoverage(state(A));
      await store.putApiToken(token(A, 't1', 'h'.repeat(64)));
      expect(await store.listRepositories(B)).toEqual([]);
      expect(await store.getRepository(B, '{r1}')).toBeUndefined();
      expect(await store.listRepositoryCoverage(B)).toEqual([]);
      expect(await store.getCoverage(B)).toBeUndefined();
      expect(await store.listApiTokens(B)).toEqual([]);
      expect(await store.deleteApiToken(B, 't1')).toBe(false);
      expect(await store.findApiToken('h'.repeat(64))).toBeDefined();
    });

    it('revokes a token durably: it is no longer found by its hash', async () => {
      await store.putApiToken(token(A, 't1', '1'.repeat(64)));
      await store.putApiToken(token(A, 't2', '2'.repeat(64)));
      expect(await store.deleteApiToken(A, 't1')).toBe(true);
      expect(await store.deleteApiToken(A, 't1')).toBe(false);
      const again = await reopen();
      expect(await again.findApiToken('1'.repeat(64))).toBeUndefined();
      expect((await again.listApiTokens(A)).map((t) => t.id)).toEqual(['t2']);
    });

    it('forgets everything of an installation with forgetTenant, and nothing of another', async () => {
      for (const key of [A, B]) {
        await store.putRepository(repo(key, '{r1}'));
        await store.putRepositoryCoverage(entry(key, '{r1}'));
        await store.putCoverage(state(key));
      }
      await store.putApiToken(token(A, 't1', '1'.repeat(64)));
      await store.putApiToken(token(B, 't2', '2'.repeat(64)));
      await store.forgetTenant(A);
      const again = await reopen();
      expect(await again.listRepositories(A)).toEqual([]);
      expect(await again.listRepositoryCoverage(A)).toEqual([]);
      expect(await again.getCoverage(A)).toBeUndefined();
      expect(await again.findApiToken('1'.repeat(64))).toBeUndefined();
      expect(await again.listRepositories(B)).toHaveLength(1);
      expect(await again.listRepositoryCoverage(B)).toHaveLength(1);
      expect(await again.getCoverage(B)).toEqual(state(B));
      expect(await again.findApiToken('2'.repeat(64))).toBeDefined();
    });

    it('lists inventories without their bodies and keeps advisory states across a reopen, per installation', async () => {
      await store.putInventory(inventory(A, '{r1}', 'main'));
      await store.putInventory(inventory(A, '{r1}', 'dev'));
      await store.putInventory(inventory(B, '{r2}', 'main'));
      await store.putAdvisoryState(advisory(A, '{r1}', { result: 'PASSED' }));
      await store.putAdvisoryState(advisory(A, '{r1}'));
      await store.putAdvisoryState(advisory(B, '{r1}', { fixed: [{ finding: advisory(B, '{r1}').findings[0]!, at: AT }], findings: [] }));
      const again = await reopen();
      const listed = (await again.listInventories(A)).sort((a, b) => a.branch.localeCompare(b.branch));
      expect(listed.map((i) => i.branch)).toEqual(['dev', 'main']);
      expect(listed[0]).not.toHaveProperty('packages');
      expect(await again.getAdvisoryState(A, '{r1}')).toEqual(advisory(A, '{r1}'));
      expect((await again.getAdvisoryState(B, '{r1}'))?.fixed).toHaveLength(1);
      expect(await again.getAdvisoryState(A, '{r2}')).toBeUndefined();
      await again.putExportMapping(A, { clientKey: A, source: 'version: 1', updatedBy: 'u', updatedAt: AT });
      await again.putExportMapping(B, { clientKey: B, source: 'version: 1', updatedBy: 'u', updatedAt: AT });
      await again.putExportMapping(B, null);
      const again2 = await reopen();
      expect(await again2.getExportMapping(B)).toBeUndefined();
      expect((await again2.getExportMapping(A))?.source).toBe('version: 1');
      await again2.forgetTenant(A);
      expect(await again2.getExportMapping(A)).toBeUndefined();
      expect(await again2.getAdvisoryState(A, '{r1}')).toBeUndefined();
      expect(await again2.listInventories(A)).toEqual([]);
      expect(await again2.getAdvisoryState(B, '{r1}')).toBeDefined();
    });

    it('hands out copies', async () => {
      await store.putCoverage(state(A));
      const got = await store.getCoverage(A);
      got!.changes.push({ kind: 'deleted', repoUuid: '{x}', fullName: 'acme/x', at: AT });
      expect((await store.getCoverage(A))?.changes).toHaveLength(1);
    });
  });
}
