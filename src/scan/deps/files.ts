/**
 * Which files are dependency files, by name alone. Kept apart from the parsers (parse.ts)
 * so that deciding what to read costs nothing: the parsers pull in YAML, TOML and XML
 * libraries, which a CLI scan of a few source files should not load at start-up.
 */
export type DependencyFormat =
  | 'npm'
  | 'yarn'
  | 'pnpm'
  | 'bun'
  | 'poetry'
  | 'pipfile'
  | 'uv'
  | 'pdm'
  | 'gomod'
  | 'gosum'
  | 'cargo'
  | 'gemfile'
  | 'composer'
  | 'maven'
  | 'pubspec'
  | 'mix'
  | 'nuget'
  | 'swift'
  | 'gradle'
  | 'requirements';

const BY_NAME: Record<string, DependencyFormat> = {
  'package-lock.json': 'npm',
  'npm-shrinkwrap.json': 'npm',
  'yarn.lock': 'yarn',
  'pnpm-lock.yaml': 'pnpm',
  'bun.lock': 'bun',
  'poetry.lock': 'poetry',
  'Pipfile.lock': 'pipfile',
  'uv.lock': 'uv',
  'pdm.lock': 'pdm',
  'go.mod': 'gomod',
  'go.sum': 'gosum',
  'Cargo.lock': 'cargo',
  'Gemfile.lock': 'gemfile',
  'gems.locked': 'gemfile',
  'composer.lock': 'composer',
  'pom.xml': 'maven',
  'pubspec.lock': 'pubspec',
  'mix.lock': 'mix',
  'packages.lock.json': 'nuget',
  'Package.resolved': 'swift',
};

export function dependencyFormat(path: string): DependencyFormat | undefined {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  if (Object.hasOwn(BY_NAME, base)) return BY_NAME[base];
  if (base.endsWith('gradle.lockfile')) return 'gradle';
  // requirements.txt, requirements-dev.txt, dev-requirements.txt, requirements/prod.txt…
  if (/requirements.*\.txt$/i.test(base) || /(^|\/)requirements\/[^/]+\.txt$/i.test(path)) return 'requirements';
  return undefined;
}

export function isDependencyFile(path: string): boolean {
  return dependencyFormat(path) !== undefined;
}
