import { describe, expect, it } from 'vitest';
import { lockfileFixtures, readFixture } from './helpers/lockfile-fixtures.ts';

// Every fixture folder read exactly as its hand-written expected.txt says: names, versions
// and, for packages from outside the registry, where they came from.
describe('lockfile fixtures', () => {
  const fixtures = lockfileFixtures();

  it('covers every format Gatehouse reads', () => {
    const names = new Set(fixtures.flatMap((f) => f.files.map((file) => file.name)));
    for (const name of ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'requirements.txt', 'poetry.lock', 'Pipfile.lock', 'uv.lock', 'pdm.lock', 'go.mod', 'Cargo.lock', 'Gemfile.lock', 'gems.locked', 'composer.lock', 'pom.xml', 'gradle.lockfile', 'pubspec.lock', 'mix.lock', 'packages.lock.json', 'Package.resolved']) {
      expect(names, name).toContain(name);
    }
  });

  it.each(fixtures.map((f) => [f.folder, f] as const))('%s', (_, fixture) => {
    expect(readFixture(fixture)).toEqual([...fixture.expected].sort());
  });
});
