import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * `npm run fuzz`: the HTTP fuzz suite with many more cases than `npm test` runs
 * (FUZZ_CASES, default 50,000; FUZZ_SEED to replay a run). Extra arguments go to vitest.
 */
const cases = process.env.FUZZ_CASES ?? '50000';
const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', 'test/fuzz-http.test.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_CASES: cases },
});
process.exit(run.status ?? 1);
