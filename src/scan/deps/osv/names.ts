import type { Ecosystem } from '../../types.ts';

/**
 * The key a package is indexed and looked up under, so that a lockfile's spelling and the
 * advisory's spelling meet. Only ecosystems whose registries treat spellings as the same
 * package are folded; npm, Go module paths, RubyGems and Maven coordinates are case-sensitive.
 */
export function normalizePackageName(ecosystem: Ecosystem, name: string): string {
  const trimmed = name.trim();
  switch (ecosystem) {
    case 'PyPI':
      // PEP 503: case-insensitive, and runs of `-`, `_`, `.` are one separator.
      return trimmed.toLowerCase().replace(/[-_.]+/g, '-');
    case 'Packagist':
    case 'NuGet':
      return trimmed.toLowerCase();
    case 'SwiftURL':
      // OSV names Swift packages by repository URL without scheme or `.git`; hosts fold case.
      return trimmed.toLowerCase().replace(/^https?:\/\//, '').replace(/\.git$/, '').replace(/\/+$/, '');
    case 'crates.io':
      // crates.io refuses names that differ only by case or `-`/`_`; lockfiles and advisories use the published form.
      return trimmed;
    case 'Maven':
      // Coordinates are `group:artifact`; tolerate stray spaces around the colon.
      return trimmed.replace(/\s*:\s*/g, ':');
    case 'Go':
      return trimmed.replace(/\/+$/, '');
    default:
      return trimmed;
  }
}
