import { randomUUID } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { TOOL } from '../report/tool.ts';
import type { DependencyFinding, PackageRef } from '../types.ts';
import { purlOf, splitName } from './purl.ts';

export interface SbomMeta {
  /** The scanned project: becomes the root component. */
  name: string;
  version?: string;
  /** Defaults to now; fixed in tests for reproducible output. */
  timestamp?: Date;
}

/** One package after merging every lockfile that mentions it. */
interface Entry {
  ref: PackageRef;
  direct: boolean | undefined;
  dependsOn: Set<string>;
  sources: Set<string>;
}

/** Splits `name@version` at the last `@`, so `@scope/name@1.0.0` keeps its scope. */
function splitRef(nameAtVersion: string): { name: string; version: string } | undefined {
  const at = nameAtVersion.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: nameAtVersion.slice(0, at), version: nameAtVersion.slice(at + 1) };
}

function mergeByPurl(packages: Iterable<PackageRef>): Map<string, Entry> {
  const list = [...packages];
  // Graph edges name `name@version`; a package from git or a path has a purl with
  // qualifiers, so edges are resolved to the purl of the package the lockfile listed.
  const purlById = new Map<string, string>();
  for (const pkg of list) {
    const id = `${pkg.ecosystem}\u0000${pkg.path}\u0000${pkg.name}@${pkg.version}`;
    if (!purlById.has(id)) purlById.set(id, purlOf(pkg));
  }
  const entries = new Map<string, Entry>();
  for (const pkg of list) {
    const purl = purlOf(pkg);
    let entry = entries.get(purl);
    if (!entry) {
      entry = { ref: pkg, direct: pkg.direct, dependsOn: new Set(), sources: new Set() };
      entries.set(purl, entry);
    } else if (pkg.direct !== undefined) {
      entry.direct = (entry.direct ?? false) || pkg.direct;
    }
    entry.sources.add(pkg.path);
    for (const dep of pkg.dependsOn ?? []) {
      const target = splitRef(dep);
      // Edges are resolved within the same ecosystem: a lockfile never points across ecosystems.
      if (target) entry.dependsOn.add(purlById.get(`${pkg.ecosystem}\u0000${pkg.path}\u0000${dep}`) ?? purlOf({ ecosystem: pkg.ecosystem, ...target }));
    }
  }
  return entries;
}

/** A known vulnerability of a listed package, as CycloneDX records it: advisory, rating, the component it affects. */
function vulnerabilityOf(finding: DependencyFinding, affected: Models.Component): Models.Vulnerability.Vulnerability {
  return new Models.Vulnerability.Vulnerability({
    id: finding.advisory,
    source: new Models.Vulnerability.Source({ name: 'OSV', url: `https://osv.dev/vulnerability/${encodeURIComponent(finding.advisory)}` }),
    ratings: new Models.Vulnerability.RatingRepository([new Models.Vulnerability.Rating({ severity: finding.severity as Enums.Vulnerability.Severity })]),
    description: finding.message,
    recommendation: finding.fixedVersion ? `Upgrade ${finding.package} to ${finding.fixedVersion} or later.` : undefined,
    affects: new Models.Vulnerability.AffectRepository([new Models.Vulnerability.Affect(affected.bomRef)]),
  });
}

/**
 * CycloneDX 1.6 JSON for the given packages: one component per distinct purl (packages
 * repeated across lockfiles are merged), the lockfile graph as `dependencies`, and the
 * project as the root component, depending on the direct packages (or, where a lockfile
 * does not say which are direct, on the packages nothing else depends on). Known
 * vulnerabilities of those packages, when given, are listed as `vulnerabilities`.
 */
export async function buildSbom(packages: Iterable<PackageRef>, meta: SbomMeta, vulnerabilities: readonly DependencyFinding[] = []): Promise<string> {
  const entries = mergeByPurl(packages);

  const root = new Models.Component(Enums.ComponentType.Application, meta.name, {
    bomRef: 'root-component',
    version: meta.version,
  });
  const bom = new Models.Bom({
    serialNumber: `urn:uuid:${randomUUID()}`,
    metadata: new Models.Metadata({ timestamp: meta.timestamp ?? new Date(), component: root }),
  });
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, TOOL.name, { version: TOOL.version }),
  );

  const components = new Map<string, Models.Component>();
  for (const [purl, { ref, sources }] of entries) {
    // CycloneDX tools name npm scopes, Maven groups and Composer vendors as `group`;
    // a Go module keeps its whole path as its name.
    const [group, name] = ref.ecosystem === 'Go' ? [undefined, ref.name] : splitName(ref.ecosystem, ref.name);
    const component = new Models.Component(Enums.ComponentType.Library, name, {
      bomRef: purl,
      group,
      purl,
      version: ref.version || undefined,
    });
    for (const source of [...sources].sort()) component.properties.add(new Models.Property('gatehouse:lockfile', source));
    components.set(purl, component);
    bom.components.add(component);
  }

  const depended = new Set<string>();
  for (const [purl, entry] of entries) {
    const component = components.get(purl)!;
    for (const target of entry.dependsOn) {
      const dependency = components.get(target);
      // Lockfiles occasionally name a package they do not list (optional, platform-specific);
      // a dangling bom-ref would make the document invalid, so such edges are dropped.
      if (!dependency || target === purl) continue;
      component.dependencies.add(dependency.bomRef);
      depended.add(target);
    }
  }
  for (const [purl, entry] of entries) {
    const topLevel = entry.direct ?? !depended.has(purl);
    if (topLevel) root.dependencies.add(components.get(purl)!.bomRef);
  }

  const seen = new Set<string>();
  for (const finding of vulnerabilities) {
    const component = components.get(purlOf({ ecosystem: finding.ecosystem, name: finding.package, version: finding.version }));
    const key = `${finding.advisory}\u0000${component?.bomRef.value}`;
    // One entry per advisory and package, however many lockfiles pin it.
    if (!component || seen.has(key)) continue;
    seen.add(key);
    bom.vulnerabilities.add(vulnerabilityOf(finding, component));
  }

  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}
