import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

/**
 * Gemfile.lock. Gems from a rubygems source are under `GEM` → `specs:`, four spaces in
 * as `name (version[-platform])`, each followed by its own requirements six spaces in.
 * `DEPENDENCIES` names what the Gemfile asked for. GIT and PATH sources are not releases.
 */
const SPEC = /^ {4}([^\s(]+) \(([^)]+)\)$/;
const SPEC_DEP = /^ {6}([^\s(]+)/;

export function parseGemfileLock(file: string, content: string): PackageRef[] {
  const lines = splitLines(content);
  let section = '';
  let inSpecs = false;
  const gems: { name: string; version: string; line: number; deps: string[] }[] = [];
  const direct = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\s+$/, '');
    if (raw === '') continue;
    if (!raw.startsWith(' ')) {
      section = raw;
      inSpecs = false;
      continue;
    }
    if (section === 'GEM') {
      if (raw === '  specs:') {
        inSpecs = true;
        continue;
      }
      if (!inSpecs) continue;
      const spec = SPEC.exec(raw);
      if (spec?.[1] && spec[2]) {
        gems.push({ name: spec[1], version: stripPlatform(spec[2]), line: i + 1, deps: [] });
        continue;
      }
      const dep = SPEC_DEP.exec(raw);
      if (dep?.[1]) gems[gems.length - 1]?.deps.push(dep[1]);
    } else if (section === 'DEPENDENCIES') {
      const name = /^ {2}([^\s(!]+)/.exec(raw)?.[1];
      if (name) direct.add(name);
    }
  }
  if (gems.length === 0 && !lines.some((l) => /^(GEM|GIT|PATH|PLATFORMS|DEPENDENCIES)$/.test(l.trim()))) {
    throw new ParseError(file, 'not a Gemfile.lock (no GEM, PLATFORMS or DEPENDENCIES section)');
  }
  const versions = new Map(gems.map((g) => [g.name, g.version]));
  const seen = new Set<string>();
  const refs: PackageRef[] = [];
  for (const gem of gems) {
    // The same gem is listed once per platform build (`nokogiri (1.16.0-x86_64-linux)`).
    const id = `${gem.name}@${gem.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const dependsOn = gem.deps.flatMap((d) => (versions.has(d) ? [`${d}@${versions.get(d)}`] : []));
    refs.push({ ecosystem: 'RubyGems', name: gem.name, version: gem.version, path: file, line: gem.line, direct: direct.has(gem.name), dependsOn });
  }
  return refs;
}

/** RubyGems versions never contain `-`; a platform build appends `-platform`. */
function stripPlatform(version: string): string {
  const dash = version.indexOf('-');
  return dash === -1 ? version : version.slice(0, dash);
}
