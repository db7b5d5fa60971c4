// The secrets evaluation corpus (test/fixtures/secrets-eval, described in its README) and
// how a scanner is scored on it. Shared by bench/secrets-recall.bench.ts, which compares
// Gatehouse with secretlint, and test/secrets-eval.test.ts, which holds Gatehouse to the
// targets.
//
// A positive file holds one planted secret at a known line; it counts as found when the
// scanner reports something within LINE_SLACK lines of it (a multi-line construct such as
// an XML element or a PEM block may be reported where it opens). A negative file counts as
// a false positive when the scanner reports anything in it at all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const EVAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/secrets-eval');
const LINE_SLACK = 2;

export interface EvalFile {
  /** Relative to EVAL_DIR, e.g. `positives/012-slack-bot-env/.env`. */
  file: string;
  /** The path a scanner sees: the file's name inside its case directory, as in a repository. */
  repoPath: string;
  text: string;
}

export interface EvalCorpus {
  positives: (EvalFile & { line: number; family: string })[];
  negatives: EvalFile[];
}

interface Manifest {
  positives: { file: string; line: number; family: string }[];
  negatives: string[];
}

export function loadEvalCorpus(): EvalCorpus {
  const manifest = JSON.parse(readFileSync(path.join(EVAL_DIR, 'manifest.json'), 'utf8')) as Manifest;
  const load = (file: string): EvalFile => ({
    file,
    // positives/<case>/<name> is scanned as <name>; negatives keep their relative path. A
    // `.sample` suffix on JavaScript/TypeScript files only keeps the linter, the type checker
    // and the test runner away from them.
    repoPath: (file.startsWith('positives/') ? file.split('/').slice(2).join('/') : file.slice('negatives/'.length)).replace(/\.sample$/, ''),
    text: readFileSync(path.join(EVAL_DIR, file), 'utf8'),
  });
  return {
    positives: manifest.positives.map((p) => ({ ...load(p.file), line: p.line, family: p.family })),
    negatives: manifest.negatives.map(load),
  };
}

/** A scanner under evaluation: the 1-based lines it reports in one file (0 for a whole-file finding). */
export type LinesReported = (repoPath: string, text: string) => Promise<number[]> | number[];

export interface EvalScore {
  found: number;
  positives: number;
  /** Families of the positives that were missed, with their case files. */
  missed: string[];
  flaggedNegatives: string[];
  negatives: number;
  recall: number;
  falsePositiveRate: number;
}

export async function scoreScanner(corpus: EvalCorpus, linesReported: LinesReported): Promise<EvalScore> {
  const missed: string[] = [];
  for (const p of corpus.positives) {
    const lines = await linesReported(p.repoPath, p.text);
    if (!lines.some((l) => Math.abs(l - p.line) <= LINE_SLACK)) missed.push(`${p.family} (${p.file})`);
  }
  const flaggedNegatives: string[] = [];
  for (const n of corpus.negatives) {
    if ((await linesReported(n.repoPath, n.text)).length > 0) flaggedNegatives.push(n.file);
  }
  const found = corpus.positives.length - missed.length;
  return {
    found,
    positives: corpus.positives.length,
    missed,
    flaggedNegatives,
    negatives: corpus.negatives.length,
    recall: found / corpus.positives.length,
    falsePositiveRate: flaggedNegatives.length / corpus.negatives.length,
  };
}

export function formatScore(name: string, s: EvalScore): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return `${name.padEnd(11)} recall ${pct(s.recall).padStart(7)} (${s.found}/${s.positives})   false positives on ${pct(s.falsePositiveRate).padStart(6)} of negatives (${s.flaggedNegatives.length}/${s.negatives})`;
}
