// `npm run bench`: runs every bench/*.bench.ts in its own process, one after another,
// so that one benchmark's heap and JIT state never colour another's figures.
// `npm run bench -- secrets` runs only the benchmarks whose file name contains "secrets".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`${file} exited with ${result.status ?? result.signal}`);
  }
}
if (files.length === 0) console.log(`no benchmark matches "${filter}"`);
process.exitCode = failed > 0 ? 1 : 0;
