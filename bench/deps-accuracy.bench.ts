// Lockfile reading accuracy: recall and precision per format over the fixture set in
// test/fixtures/lockfiles, against each folder's hand-written expected.txt. A package
// counts when file, ecosystem, name and version match; "exact" also requires the source
// (git, archive, path) to match.
import { isDependencyFile } from '../src/scan/deps/index.ts';
import { lockfileFixtures, readFixture } from '../test/helpers/lockfile-fixtures.ts';

interface Tally {
  expected: number;
  found: number;
  matched: number;
  exact: number;
}

const byFormat = new Map<string, Tally>();
const identity = (line: string): string => line.split(' ').slice(0, 3).join(' ');
/** The file's name, except that every requirements file, and any file one includes (-r, -c), counts as requirements.txt. */
const formatOf = (line: string): string => {
  const [file, ecosystem] = line.split(' ') as [string, string];
  return ecosystem === 'PyPI' && (!isDependencyFile(file) || /requirements/i.test(file)) ? 'requirements.txt' : file.replace(/^.*\//, '');
};

for (const fixture of lockfileFixtures()) {
  const actual = readFixture(fixture);
  const expectedIds = new Set(fixture.expected.map(identity));
  const actualIds = new Set(actual.map(identity));
  const expectedExact = new Set(fixture.expected);
  for (const line of new Set([...fixture.expected, ...actual])) {
    const tally = byFormat.get(formatOf(line)) ?? { expected: 0, found: 0, matched: 0, exact: 0 };
    byFormat.set(formatOf(line), tally);
    if (expectedExact.has(line)) tally.expected++;
    if (actual.includes(line)) tally.found++;
    if (expectedExact.has(line) && actualIds.has(identity(line))) tally.matched++;
    if (expectedExact.has(line) && actual.includes(line)) tally.exact++;
  }
  for (const line of actual) if (!expectedIds.has(identity(line))) console.log(`  unexpected in ${fixture.folder}: ${line}`);
  for (const line of fixture.expected) if (!actualIds.has(identity(line))) console.log(`  missed in ${fixture.folder}: ${line}`);
}

const pct = (a: number, b: number): string => (b === 0 ? '  -  ' : `${((100 * a) / b).toFixed(1)}%`);
console.log('format               expected  found  recall   precision  exact-source');
let total: Tally = { expected: 0, found: 0, matched: 0, exact: 0 };
for (const [format, t] of [...byFormat].sort()) {
  console.log(`${format.padEnd(20)} ${String(t.expected).padStart(8)} ${String(t.found).padStart(6)}  ${pct(t.matched, t.expected).padStart(6)}   ${pct(t.matched, t.found).padStart(8)}   ${pct(t.exact, t.expected).padStart(8)}`);
  total = { expected: total.expected + t.expected, found: total.found + t.found, matched: total.matched + t.matched, exact: total.exact + t.exact };
}
console.log(`${'all'.padEnd(20)} ${String(total.expected).padStart(8)} ${String(total.found).padStart(6)}  ${pct(total.matched, total.expected).padStart(6)}   ${pct(total.matched, total.found).padStart(8)}   ${pct(total.exact, total.expected).padStart(8)}`);
