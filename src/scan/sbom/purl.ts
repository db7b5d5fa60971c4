import { PackageURL } from 'packageurl-js';
import type { Ecosystem, PackageRef, PackageSource } from '../types.ts';

/** purl types (https://github.com/package-url/purl-spec) for the OSV ecosystems the parsers produce. */
const PURL_TYPE: Record<Ecosystem, string> = {
  npm: 'npm',
  PyPI: 'pypi',
  Go: 'golang',
  'crates.io': 'cargo',
  RubyGems: 'gem',
  Packagist: 'composer',
  Maven: 'maven',
  Pub: 'pub',
  Hex: 'hex',
  NuGet: 'nuget',
  SwiftURL: 'swift',
};

/**
 * Splits an ecosystem's package name into purl namespace and name. OSV spells Maven
 * packages `group:artifact` and the others with `/` (`@scope/name`, `vendor/package`,
 * Go module paths and Swift repository paths, where the purl name is the last segment).
 */
export function splitName(ecosystem: Ecosystem, name: string): [namespace: string | undefined, name: string] {
  const separator =
    ecosystem === 'Maven' ? ':' : ecosystem === 'npm' || ecosystem === 'Packagist' || ecosystem === 'Go' || ecosystem === 'SwiftURL' ? '/' : undefined;
  const at = separator === undefined ? -1 : name.lastIndexOf(separator);
  if (at <= 0 || at === name.length - 1) return [undefined, name];
  return [name.slice(0, at), name.slice(at + 1)];
}

/**
 * The purl qualifiers that say where a non-registry package came from (purl-spec's
 * well-known qualifiers): `vcs_url` is `<vcs>+<url>@<revision>`, `download_url` the archive
 * fetched, and a project directory a `file:` `repository_url`, since no registry served it.
 */
export function sourceQualifiers(source: PackageSource): Record<string, string> {
  switch (source.kind) {
    case 'vcs': {
      const url = /^[a-z][a-z0-9+.-]*\+/i.test(source.location) ? source.location : `git+${source.location}`;
      return { vcs_url: source.revision ? `${url}@${source.revision}` : url };
    }
    case 'url':
      return { download_url: source.location };
    case 'path':
      if (source.location === '') return {};
      return { repository_url: source.location.startsWith('file:') ? source.location : `file:${source.location}` };
  }
}

/** `pkg:npm/%40scope/name@1.0.0`, `pkg:maven/group/artifact@1.0`, `pkg:cargo/x@1.0?vcs_url=...`. */
export function purlOf(pkg: Pick<PackageRef, 'ecosystem' | 'name' | 'version' | 'source'>): string {
  const [namespace, name] = splitName(pkg.ecosystem, pkg.name);
  const qualifiers = pkg.source && pkg.source.location !== '' ? sourceQualifiers(pkg.source) : undefined;
  return new PackageURL(PURL_TYPE[pkg.ecosystem], namespace, name, pkg.version || undefined, qualifiers, undefined).toString();
}
