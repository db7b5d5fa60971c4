import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Tests that start the CLI or the server as a process run the compiled dist/, as users
 * do; it is rebuilt here, once before any test, when a source is newer, so those tests
 * never see stale code and parallel test files never race to build it.
 */
export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build.js', import.meta.url));
  const run = spawnSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error('building dist/ failed; see the output above');
}
