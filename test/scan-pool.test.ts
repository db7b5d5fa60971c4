import { afterEach, describe, expect, it } from 'vitest';
import { ScanBudgetExceeded, ScanPool, type ScanPoolOptions } from '../src/core/scan-pool/pool.ts';
import { createLogger } from '../src/log.ts';
import { EMPTY_REPO_CONFIG } from '../src/scan/repo-config/index.ts';

/**
 * The scan threads: real worker threads (started through tsx here, as under `npm start`),
 * a time budget enforced by terminating the thread, a heap budget enforced by V8, and a
 * fresh thread after either.
 */

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const logger = createLogger('silent');
let pool: ScanPool | undefined;
afterEach(async () => pool?.close());

function open(options: Partial<ScanPoolOptions> = {}): ScanPool {
  pool = new ScanPool({ size: 1, diffTimeMs: 60_000, fileTimeMs: 60_000, heapMb: 128, logger, ...options });
  return pool;
}

function bytes(text: string): ReadableStream<Uint8Array> {
  const encoded = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < encoded.length; i += 64 * 1024) controller.enqueue(encoded.slice(i, i + 64 * 1024));
      controller.close();
    },
  });
}

function addedFile(path: string, lines: string[]): string {
  return [`diff --git a/${path} b/${path}`, 'new file mode 100644', '--- /dev/null', `+++ b/${path}`, `@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`), ''].join('\n');
}

const secretsOn = { secrets: { config: EMPTY_REPO_CONFIG }, ignoredPaths: [] };

describe('ScanPool', { timeout: 120_000 }, () => {
  it('scans a streamed diff in a thread: findings, dependency files and ignored paths as inline', async () => {
    const diff = addedFile('app.js', ['one', `const k = "${KEY}";`]) + addedFile('package-lock.json', ['{}']) + addedFile('vendor/x.js', [`k="${KEY}"`]);
    const result = await open().scanDiff(bytes(diff), { ...secretsOn, ignoredPaths: ['vendor/**'] });
    expect(result.findings.map((f) => [f.path, f.line, f.ruleId])).toEqual([['app.js', 2, 'aws-access-key-id']]);
    expect(result.dependencyFiles).toEqual([{ path: 'package-lock.json', oldPath: null }]);
    expect(result.skipped).toEqual(['1 files ignored by the installation policy: vendor/x.js']);
  });

  it('compiles repository rules in the thread from their source text', async () => {
    const config = { ...EMPTY_REPO_CONFIG, customRules: [{ id: 'acme-token', description: 'Acme token', severity: 'high' as const, keywords: ['acme_'], regex: 'acme_[a-z0-9]{12}', allowlists: [] }] };
    const result = await open().scanDiff(bytes(addedFile('a.txt', ['t = acme_0123456789ab'])), { secrets: { config }, ignoredPaths: [] });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['acme-token']);
  });

  it('parses lockfiles in a thread, and says why one cannot be read', async () => {
    const p = open();
    const lock = JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'x' }, 'node_modules/left-pad': { version: '1.3.0' } } });
    expect(await p.parseLockfile('package-lock.json', lock)).toMatchObject({ packages: [{ name: 'left-pad', version: '1.3.0' }] });
    expect(await p.parseLockfile('package-lock.json', '{ nope')).toEqual({ error: expect.stringContaining('package-lock.json') });
  });

  it('reads dependency files that go together (go.mod with go.sum, a pom with its parent) in a thread', async () => {
    const p = open();
    const goMod = 'module example.com/app\n\ngo 1.16\n\nrequire github.com/gin-gonic/gin v1.9.1\n';
    const goSum = 'golang.org/x/text v0.3.7 h1:ghi=\n';
    const set = await p.parseDependencySet([
      { path: 'go.mod', content: goMod },
      { path: 'go.sum', content: goSum },
      { path: 'broken/pom.xml', content: '<project><dependencies></project>' },
    ]);
    expect(set.packages.map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual(['github.com/gin-gonic/gin@v1.9.1', 'golang.org/x/text@v0.3.7']);
    expect(set.errors).toEqual([{ path: 'broken/pom.xml', error: expect.stringMatching(/^broken\/pom.xml: invalid XML/) }]);
    const child = '<project><parent><groupId>g</groupId><artifactId>parent</artifactId><version>1</version><relativePath>../base</relativePath></parent><artifactId>api</artifactId></project>';
    expect(await p.dependencyContext('api/pom.xml', child)).toEqual(['base/pom.xml']);
  });

  it('stops a scan over its time budget, cancels the diff download, and serves the next task on a fresh thread', async () => {
    const p = open({ diffTimeMs: 500 });
    let cancelled = false;
    // A diff whose download never finishes: the budget must end it, not the sender.
    const stalled = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode(addedFile('a.txt', ['x']).slice(0, 40))),
      pull: () => new Promise(() => {}),
      cancel: () => {
        cancelled = true;
      },
    });
    const error = await p.scanDiff(stalled, secretsOn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanBudgetExceeded);
    expect(error).toMatchObject({ budget: 'time', message: 'the scan exceeded its time budget of 500 ms and was stopped' });
    expect(cancelled).toBe(true);
    const next = await p.scanDiff(bytes(addedFile('b.txt', [`k="${KEY}"`])), secretsOn);
    expect(next.findings).toHaveLength(1);
  });

  it('a thread that runs out of heap is replaced; the process and the next task carry on', async () => {
    const p = open({ heapMb: 24 });
    // One 64 MB line, all of it kept (the limits are raised): far past a 24 MB heap.
    const huge = addedFile('big.txt', ['y'.repeat(64 * 1024 * 1024)]);
    const unbounded = { maxFileBytes: 1024 * 1024 * 1024, maxDiffBytes: 1024 * 1024 * 1024, maxLineBytes: 1024 * 1024 * 1024 };
    const error = await p.scanDiff(bytes(huge), { ...secretsOn, limits: unbounded }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanBudgetExceeded);
    expect(error).toMatchObject({ budget: 'memory', message: 'the scan exceeded its memory budget of 24 MB and was stopped' });
    const next = await p.scanDiff(bytes(addedFile('b.txt', [`k="${KEY}"`])), secretsOn);
    expect(next.findings).toHaveLength(1);
  });

  it('queues tasks beyond its size and runs them all', async () => {
    const p = open({ size: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => p.scanDiff(bytes(addedFile(`f${i}.txt`, [`k="${KEY}"`])), secretsOn)));
    expect(results.map((r) => r.findings[0]?.path)).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']);
  });
});
