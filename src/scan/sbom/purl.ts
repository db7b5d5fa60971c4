import { PackageURL } from 'packageurl-js';
import type { Ecosystem, PackageRef } from '../types.ts';

/** purl types (https://github.com/package-url/purl-spec) for the OSV ecosystems the parsers produce. */
const PURL_TYPE: Record<Ecosystem, string> = {
  npm: 'npm',
  PyPI: 'pypi',
  Go: 'golang',
  'crates.io': 'cargo',
  RubyGems: 'gem',
  Packagist: 'composer',
  Maven: 'maven',
};

/**
 * Splits an ecosystem's package name into purl namespace and name. OSV spells Maven
 * packages `group:artifact` and the others with `/` (`@scope/name`, `vendor/package`,
 * Go module paths, where the purl name is the last path segment).
 */
export function splitName(ecosystem: Ecosystem, name: string): [namespace: string | undefined, name: string] {
  const separator = ecosystem === 'Maven' ? ':' : ecosystem === 'npm' || ecosystem === 'Packagist' || ecosystem === 'Go' ? '/' : undefined;
  const at = separator === undefined ? -1 : name.lastIndexOf(separator);
  if (at <= 0 || at === name.length - 1) return [undefined, name];
  return [name.slice(0, at), name.slice(at + 1)];
}

/** `pkg:npm/%40scope/name@1.0.0`, `pkg:maven/group/artifact@1.0`, ... */
export function purlOf(pkg: Pick<PackageRef, 'ecosystem' | 'name' | 'version'>): string {
  const [namespace, name] = splitName(pkg.ecosystem, pkg.name);
  return new PackageURL(PURL_TYPE[pkg.ecosystem], namespace, name, pkg.version || undefined, undefined, undefined).toString();
}
