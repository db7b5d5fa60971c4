// Recall and false positives of the whole built-in rule set on a generated corpus: every
// planted secret found where it was planted, nothing reported anywhere else (decoys
// included). Prints both figures.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, readCorpusFiles, type Corpus } from '../bench/corpus.ts';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import type { SecretFinding } from '../src/scan/types.ts';

describe('planted-secret corpus', () => {
  let dir: string;
  let corpus: Corpus;
  let findings: SecretFinding[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-recall-'));
    corpus = await generateCorpus(dir, 600_000, 42);
    const scanner = new SecretScanner();
    findings = [];
    for (const file of await readCorpusFiles(dir)) {
      if (!scanner.shouldSkipPath(file.path)) findings.push(...scanner.scanText(file.path, file.text));
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const at = (p: string, line: number) => `${p}:${line}`;

  it('is generated with one secret per family and a set of decoys', () => {
    expect(corpus.planted.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.planted.map((p) => p.family)).size).toBe(corpus.planted.length);
    expect(corpus.decoys).toBeGreaterThanOrEqual(13);
  });

  it('finds every planted secret and nothing else', () => {
    const found = new Set(findings.map((f) => at(f.path, f.line)));
    const plantedAt = new Set(corpus.planted.map((p) => at(p.path, p.line)));
    const missed = corpus.planted.filter((p) => !found.has(at(p.path, p.line))).map((p) => p.family);
    const falsePositives = findings.filter((f) => !plantedAt.has(at(f.path, f.line))).map((f) => `${f.ruleId} ${f.path}:${f.line}`);
    console.log(
      `recall ${corpus.planted.length - missed.length}/${corpus.planted.length}; false positives ${falsePositives.length} ` +
        `(${corpus.files} files, ${corpus.decoys} decoys)`,
    );
    expect(missed).toEqual([]);
    expect(falsePositives).toEqual([]);
  });
});
