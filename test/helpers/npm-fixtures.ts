import { createMemoryIndex } from '../../src/scan/deps/index.ts';

/** A package-lock.json v3 for a project named `project` pinning `deps` (name → version). */
export function npmLockfile(project: string, deps: Record<string, string>): string {
  const packages: Record<string, unknown> = { '': { name: project, dependencies: deps } };
  for (const [name, version] of Object.entries(deps)) packages[`node_modules/${name}`] = { version };
  return `${JSON.stringify({ name: project, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}

function advisory(id: string, name: string, fixed: string, severity: string) {
  return {
    id,
    modified: '2024-01-01T00:00:00Z',
    summary: `${name} is vulnerable`,
    affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }],
    database_specific: { severity },
  };
}

/** lodash < 4.17.21 (high) and minimist < 1.2.6 (critical): enough for new-versus-existing flows. */
export const SAMPLE_NPM_INDEX = createMemoryIndex([
  advisory('GHSA-aaaa-bbbb-0001', 'lodash', '4.17.21', 'HIGH'),
  advisory('GHSA-aaaa-bbbb-0002', 'minimist', '1.2.6', 'CRITICAL'),
]);
