import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord } from './json-lines.ts';
import { lineAt, lineStarts } from './lines.ts';

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'dependency' || name === 'profile',
});

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

function dependencyList(block: unknown): Record<string, unknown>[] {
  if (!isRecord(block) || !isRecord(block.dependencies)) return [];
  const list = block.dependencies.dependency;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/** What a pom contributes to itself and to the poms that name it as their parent. */
export interface PomModel {
  properties: Map<string, string>;
  /** `dependencyManagement` versions by `group:artifact`, unresolved (`${...}` kept). */
  managed: Map<string, string>;
  parent?: { groupId?: string; artifactId?: string; version?: string; relativePath: string };
}

function readProject(file: string, content: string): Record<string, unknown> {
  const valid = XMLValidator.validate(content);
  if (valid !== true) throw new ParseError(file, `invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  const doc: unknown = parser.parse(content);
  const project = isRecord(doc) ? doc.project : undefined;
  if (!isRecord(project)) throw new ParseError(file, 'no <project> element');
  return project;
}

/** The properties and managed versions of a pom, for itself and for the poms whose parent it is. */
export function readPomModel(file: string, content: string): PomModel {
  const project = readProject(file, content);
  const properties = new Map<string, string>();
  if (isRecord(project.properties)) {
    for (const [k, v] of Object.entries(project.properties)) {
      const value = text(v);
      if (value !== undefined) properties.set(k, value);
    }
  }
  const parent = isRecord(project.parent) ? project.parent : undefined;
  const builtins: [string, unknown][] = [
    ['project.version', project.version ?? parent?.version],
    ['project.groupId', project.groupId ?? parent?.groupId],
    ['project.artifactId', project.artifactId],
    ['project.parent.version', parent?.version],
    ['project.parent.groupId', parent?.groupId],
  ];
  for (const [k, v] of builtins) {
    const value = text(v);
    if (value !== undefined && !properties.has(k)) properties.set(k, value);
  }
  const managed = new Map<string, string>();
  for (const dep of dependencyList(project.dependencyManagement)) {
    const version = text(dep.version);
    if (version) managed.set(`${text(dep.groupId)}:${text(dep.artifactId)}`, version);
  }
  return {
    properties,
    managed,
    ...(parent
      ? {
          parent: {
            groupId: text(parent.groupId),
            artifactId: text(parent.artifactId),
            version: text(parent.version),
            // Maven looks for the parent at ../pom.xml unless told otherwise; an empty relativePath means the repository only.
            relativePath: text(parent.relativePath) ?? '../pom.xml',
          },
        }
      : {}),
  };
}

/**
 * Maven pom.xml, for dependencies whose version is written in the pom itself (literally,
 * through `${property}`, or through `dependencyManagement`), or in its local parent poms
 * (`ancestors`, nearest first, found by `relativePath`), whose properties and managed
 * versions a child inherits. `dependencyManagement` alone declares no dependency. Versions
 * from a parent not in the repository or an imported BOM cannot be known, and version
 * ranges name no single version: both are skipped rather than guessed.
 */
export function parsePom(file: string, content: string, _notice?: (message: string) => void, ancestors: readonly PomModel[] = []): PackageRef[] {
  const project = readProject(file, content);
  const own = readPomModel(file, content);
  // The nearest definition wins: this pom's, then its parent's, and so on up.
  const properties = new Map<string, string>();
  const managed = new Map<string, string>();
  for (const model of [...ancestors].reverse().concat(own)) {
    for (const [k, v] of model.properties) properties.set(k, v);
    for (const [k, v] of model.managed) managed.set(k, v);
  }

  const resolve = (value: string | undefined, depth = 0): string | undefined => {
    if (value === undefined || depth > 10) return undefined;
    if (!value.includes('${')) return value;
    let unresolved = false;
    const out = value.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
      const found = properties.get(key);
      if (found === undefined) unresolved = true;
      return found ?? '';
    });
    return unresolved ? undefined : resolve(out, depth + 1);
  };
  const managedVersions = new Map<string, string>();
  for (const [key, version] of managed) {
    const [group, artifact] = key.split(':');
    const resolved = resolve(version);
    if (resolved) managedVersions.set(`${resolve(group)}:${resolve(artifact)}`, resolved);
  }

  const lines = new DependencyLines(content);
  const profiles = isRecord(project.profiles) && Array.isArray(project.profiles.profile) ? project.profiles.profile : [];
  const declared = [...dependencyList(project), ...profiles.flatMap((p: unknown) => dependencyList(p))];
  const refs = new Map<string, PackageRef>();
  for (const dep of declared) {
    const rawGroup = text(dep.groupId);
    const rawArtifact = text(dep.artifactId);
    const line = lines.take(false, rawGroup, rawArtifact);
    const group = resolve(rawGroup);
    const artifact = resolve(rawArtifact);
    if (!group || !artifact) continue;
    const name = `${group}:${artifact}`;
    const version = resolve(text(dep.version)) ?? managedVersions.get(name);
    if (!version || /^[[(]/.test(version)) continue;
    const id = `${name}@${version}`;
    if (!refs.has(id)) refs.set(id, { ecosystem: 'Maven', name, version, path: file, line, direct: true });
  }
  return [...refs.values()];
}

/** Finds each `<dependency>` element's artifactId line, handing them out in document order per coordinate. */
class DependencyLines {
  private readonly queues = new Map<string, number[]>();

  constructor(content: string) {
    const starts = lineStarts(content);
    const masked = content.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
    const managedSpans = [...masked.matchAll(/<dependencyManagement>[\s\S]*?<\/dependencyManagement>/g)].map((m) => [m.index, m.index + m[0].length]);
    for (const m of masked.matchAll(/<dependency>([\s\S]*?)<\/dependency>/g)) {
      const body = m[1] ?? '';
      const managed = managedSpans.some(([from = 0, to = 0]) => m.index >= from && m.index < to);
      const artifact = /<artifactId>\s*([^<]*?)\s*<\/artifactId>/.exec(body);
      const key = DependencyLines.key(managed, /<groupId>\s*([^<]*?)\s*<\/groupId>/.exec(body)?.[1], artifact?.[1]);
      const queue = this.queues.get(key) ?? [];
      // Annotate the artifactId line: it names the package, as the other formats' lines do.
      queue.push(lineAt(starts, m.index + '<dependency>'.length + (artifact?.index ?? 0)));
      this.queues.set(key, queue);
    }
  }

  private static key(managed: boolean, group: string | undefined, artifact: string | undefined): string {
    return `${managed ? 'managed' : 'declared'}\u0000${group}:${artifact}`;
  }

  take(managed: boolean, group: string | undefined, artifact: string | undefined): number {
    return this.queues.get(DependencyLines.key(managed, group, artifact))?.shift() ?? 0;
  }
}
