// Recall and false positives of Gatehouse and secretlint, side by side in one run, on the
// evaluation corpus in test/fixtures/secrets-eval: planted secrets in realistic files of
// many languages and configuration formats, and negatives taken from real packages'
// code, docs, tests and minified bundles plus tricky look-alikes (placeholders,
// references, hashes, UUIDs, public example keys). See bench/secrets-eval.ts for scoring.
//
// Run: npm run bench -- secrets-recall
//      node --import tsx bench/secrets-recall.bench.ts [path/to/src/scan/secrets/engine.ts]
// The optional argument scores another checkout's engine (e.g. an older main) in place of this one.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretScanner as Scanner } from '../src/scan/secrets/engine.ts';
import { formatScore, loadEvalCorpus, scoreScanner } from './secrets-eval.ts';

const enginePath = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(import.meta.dirname, '../src/scan/secrets/engine.ts');
const { SecretScanner } = (await import(pathToFileURL(enginePath).href)) as { SecretScanner: typeof Scanner };

const corpus = loadEvalCorpus();
console.log(`corpus: ${corpus.positives.length} positive files (${new Set(corpus.positives.map((p) => p.family)).size} families), ${corpus.negatives.length} negative files`);

const scanner = new SecretScanner();
const gatehouse = await scoreScanner(corpus, (p, text) => scanner.scanText(p, text).map((f) => f.line));

const secretlintConfig = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };
const secretlint = await scoreScanner(corpus, async (p, text) => {
  const result = await lintSource({ source: { filePath: path.join('/repo', p), content: text, contentType: 'text' }, options: { config: secretlintConfig } });
  return result.messages.map((m) => m.loc.start.line);
});

console.log(formatScore(process.argv[2] ? 'engine' : 'gatehouse', gatehouse));
console.log(formatScore('secretlint', secretlint));
console.log(`gatehouse missed: ${gatehouse.missed.join(', ') || 'none'}`);
console.log(`gatehouse flagged: ${gatehouse.flaggedNegatives.join(', ') || 'none'}`);
console.log(`secretlint flagged: ${secretlint.flaggedNegatives.join(', ') || 'none'}`);
