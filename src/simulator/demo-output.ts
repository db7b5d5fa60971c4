import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { UpdateSummary } from '../vulndb/update.ts';
import { DemoTimeoutError } from './demo-results.ts';

/**
 * What the three `npm run demo` front doors (Connect, Forge, Data Center) share: how a run
 * owns its DATA_DIR and stops, and how it prints the database it loaded and how it ends.
 */

/**
 * Starts a demo's session in `dataDir` (a fresh temporary one under `prefix` unless the caller
 * gave one). The temporary directory is removed when the start fails or on stop(), which is
 * safe to call twice.
 */
export async function openDemoSession<S extends { stop(): Promise<void> }>(
  givenDataDir: string | undefined,
  prefix: string,
  start: (dataDir: string) => Promise<S>,
): Promise<{ session: S; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = givenDataDir ?? (await mkdtemp(path.join(os.tmpdir(), prefix)));
  const removeDataDir = () => (givenDataDir === undefined ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve());
  let session: S;
  try {
    session = await start(dataDir);
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= session.stop().then(removeDataDir);
    return stopped;
  };
  return { session, dataDir, stop };
}

/** "npm 12 advisories, PyPI 1 advisory": what the demo's vulnerability database holds. */
export function describeAdvisories(db: UpdateSummary): string {
  return db.ecosystems.map((e) => `${e.ecosystem} ${e.total} advisor${e.total === 1 ? 'y' : 'ies'}`).join(', ');
}

/** Why a demo run failed, on stderr: what never got published and the clues, or the error. */
export function reportDemoFailure(error: unknown, timeoutSeconds: number): void {
  if (error instanceof DemoTimeoutError) {
    process.stderr.write(`demo: after ${timeoutSeconds} s the app had not published:\n${error.missing.map((m) => `  - ${m}\n`).join('')}`);
    process.stderr.write(`Clues:\n${error.hints.map((h) => `  - ${h}\n`).join('')}`);
  } else {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
  }
}

/** The calls the app made that the real host would refuse, on stderr under `heading`. */
export function reportViolations(violations: readonly { method: string; url: string; reason: string }[], heading: string): void {
  if (violations.length === 0) return;
  process.stderr.write(`demo: ${violations.length} ${heading}:\n${violations.map((v) => `  - ${v.method} ${v.url}: ${v.reason}\n`).join('')}`);
}

/** `--keep`: leaves everything running until Ctrl-C (or SIGTERM). */
export async function keepRunningUntilInterrupted(print: (line: string) => void): Promise<void> {
  print('Both are still running (--keep); press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
