import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

/**
 * Gemfile.lock (and gems.locked). Each source section (`GEM` for a gem server, `GIT` for a
 * repository at a `revision`, `PATH` for a directory, often the gem being developed) has a
 * `remote:` and, under `specs:`, four spaces in, `name (version[-platform])`, each followed
 * by its own requirements six spaces in. `DEPENDENCIES` names what the Gemfile asked for.
 */
const SPEC = /^ {4}([^\s(]+) \(([^)]+)\)$/;
const SPEC_DEP = /^ {6}([^\s(]+)/;
const SOURCE_SECTIONS = new Set(['GEM', 'GIT', 'PATH']);

interface Gem {
  name: string;
  version: string;
  line: number;
  deps: string[];
  source?: PackageSource;
}

export function parseGemfileLock(file: string, content: string): PackageRef[] {
  const lines = splitLines(content);
  let section = '';
  let inSpecs = false;
  let fields = new Map<string, string>();
  let sectionGems: Gem[] = [];
  const gems: Gem[] = [];
  const direct = new Set<string>();
  // A GIT section's `revision:` may follow its specs in hand-edited files, so sources are set when the section ends.
  const closeSection = (): void => {
    const source = sectionSource(section, fields);
    if (source) for (const gem of sectionGems) gem.source = source;
    sectionGems = [];
    fields = new Map();
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\s+$/, '');
    if (raw === '') continue;
    if (!raw.startsWith(' ')) {
      closeSection();
      section = raw;
      inSpecs = false;
      continue;
    }
    if (SOURCE_SECTIONS.has(section)) {
      if (raw === '  specs:') {
        inSpecs = true;
        continue;
      }
      const field = /^ {2}([a-z_]+): (.*)$/.exec(raw);
      if (field?.[1] && !raw.startsWith('    ')) {
        fields.set(field[1], field[2] ?? '');
        continue;
      }
      if (!inSpecs) continue;
      const spec = SPEC.exec(raw);
      if (spec?.[1] && spec[2]) {
        const gem: Gem = { name: spec[1], version: stripPlatform(spec[2]), line: i + 1, deps: [] };
        gems.push(gem);
        sectionGems.push(gem);
        continue;
      }
      const dep = SPEC_DEP.exec(raw);
      if (dep?.[1]) gems[gems.length - 1]?.deps.push(dep[1]);
    } else if (section === 'DEPENDENCIES') {
      const name = /^ {2}([^\s(!]+)/.exec(raw)?.[1];
      if (name) direct.add(name);
    }
  }
  closeSection();
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
    refs.push({
      ecosystem: 'RubyGems',
      name: gem.name,
      version: gem.version,
      path: file,
      line: gem.line,
      direct: direct.has(gem.name),
      dependsOn,
      ...(gem.source ? { source: gem.source } : {}),
    });
  }
  return refs;
}

function sectionSource(section: string, fields: Map<string, string>): PackageSource | undefined {
  const remote = fields.get('remote') ?? '';
  if (section === 'GIT') {
    const revision = fields.get('revision');
    return { kind: 'vcs', location: remote, ...(revision ? { revision } : {}) };
  }
  if (section === 'PATH') return { kind: 'path', location: remote };
  return undefined;
}

/** RubyGems versions never contain `-`; a platform build appends `-platform`. */
function stripPlatform(version: string): string {
  const dash = version.indexOf('-');
  return dash === -1 ? version : version.slice(0, dash);
}
