import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../../scan/types.ts';
import { InputError } from '../errors.ts';

/**
 * A baseline: the findings a project has accepted, so that only new ones fail the scan.
 * It holds each finding's fingerprint (a hash that survives line moves), with the rule and
 * path so that a reviewer can read what was accepted; never a secret or its preview.
 */
interface BaselineFile {
  gatehouseBaseline: 1;
  findings: { fingerprint: string; ruleId: string; path: string }[];
}

export async function readBaseline(file: string, absolute: string, missingIsEmpty: boolean): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingIsEmpty) return new Set();
    throw new InputError(
      code === 'ENOENT' ? `--baseline ${file}: no such file (create it with --update-baseline)` : `--baseline ${file}: cannot be read (${code ?? String(error)})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(`--baseline ${file}: not JSON`);
  }
  const findings = (parsed as Partial<BaselineFile> | null)?.findings;
  if ((parsed as Partial<BaselineFile> | null)?.gatehouseBaseline !== 1 || !Array.isArray(findings) || !findings.every((f) => typeof f?.fingerprint === 'string')) {
    throw new InputError(`--baseline ${file}: not a Gatehouse baseline (expected {"gatehouseBaseline": 1, "findings": [{"fingerprint": ...}]})`);
  }
  return new Set(findings.map((f) => f.fingerprint));
}

/** Writes every current finding as accepted, sorted so the file diffs well; replaced in one step. */
export async function writeBaseline(file: string, absolute: string, findings: readonly Finding[]): Promise<void> {
  const entries = new Map(findings.map((f) => [f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, path: f.path }]));
  const sorted = [...entries.values()].sort((a, b) => a.path.localeCompare(b.path) || a.ruleId.localeCompare(b.ruleId) || a.fingerprint.localeCompare(b.fingerprint));
  const body: BaselineFile = { gatehouseBaseline: 1, findings: sorted };
  const temporary = path.join(path.dirname(absolute), `.${path.basename(absolute)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, JSON.stringify(body, null, 2) + '\n');
    await rename(temporary, absolute);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new InputError(`--baseline ${file}: cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
