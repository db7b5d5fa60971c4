import { spawnSync } from 'node:child_process';
import { CHROMIUM, chromiumAvailable } from '../helpers/browser.ts';

/**
 * The browser tests need Debian's chromium (no browser is downloaded by the test tools).
 * `npm test` on a fresh machine must either get it or stop at once with the one command
 * that does, instead of running for minutes and failing in the browser suite at the end.
 * As root with apt-get (CI, a fresh container), it installs the package, as .ci/run does;
 * anywhere else it refuses to start and names the command.
 */
const INSTALL = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium'];

export default function setup(): void {
  if (chromiumAvailable()) return;
  const command = `sudo apt-get update && sudo ${INSTALL.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && !process.env.CHROMIUM_PATH && spawnSync('apt-get', ['--version']).status === 0;
  if (!canInstall) {
    throw new Error(`chromium is missing at ${CHROMIUM}: the browser tests need it. Run: ${command} (or set CHROMIUM_PATH)`);
  }
  console.log('chromium is missing: installing Debian\'s package for the browser tests (apt-get, once)');
  for (const args of [['apt-get', 'update', '-qq'], INSTALL]) {
    const run = spawnSync(args[0]!, args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) throw new Error(`installing chromium failed (${args.join(' ')}); run: ${command}`);
  }
  if (!chromiumAvailable()) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing; set CHROMIUM_PATH`);
}
