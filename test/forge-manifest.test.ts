import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli/main.ts';
import { FORGE_BITBUCKET_EVENTS } from '../src/forge/events.ts';
import { FORGE_LIFECYCLE_EVENTS, FORGE_SCOPES, manifestProblems } from '../src/forge/manifest.ts';

// Atlassian's own validator, offline (CommonJS; needs tslib beside it).
const forgeManifest = createRequire(import.meta.url)('@forge/manifest') as {
  ProcessorBuilder: { instance(): { withValidation(type: string): { build(): { process(file: string): Promise<{ success: boolean; errors?: unknown[] }> } } } };
  ValidationTypes: { FULL: string; PRODUCT_TRIGGER: string };
};

const APP_ID = 'ari:cloud:ecosystem::app/8db33809-1f32-48bb-8c52-5877dab48107';
let dir: string;

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const status = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: (async function* () {})(),
    env,
    cwd: dir,
  });
  return { status, stdout, stderr };
}

type Manifest = { app: { id: string }; remotes: Array<{ baseUrl: string; operations: string[] }>; permissions: { scopes: string[] }; modules: Record<string, Array<Record<string, unknown>>>; resources: Array<{ key: string; path: string }> };
let file: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-forge-manifest-'));
  file = path.join(dir, 'app', 'manifest.yml');
  const result = await run(['forge', 'manifest', '--output', 'app/manifest.yml'], { FORGE_APP_ID: APP_ID, BASE_URL: 'https://gatehouse.example.com/' });
  expect(result).toMatchObject({ status: 0 });
  manifest = parse(readFileSync(file, 'utf8')) as Manifest;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gatehouse forge manifest', () => {
  it("renders a manifest Atlassian's validator accepts, in full and for product-trigger scopes", async () => {
    // The validator looks for app sources from the working directory, as `forge lint` runs in
    // the app's folder: from the repository root it would walk node_modules for a minute.
    const cwd = process.cwd();
    process.chdir(path.dirname(file));
    try {
      for (const type of [forgeManifest.ValidationTypes.FULL, forgeManifest.ValidationTypes.PRODUCT_TRIGGER]) {
        const result = await forgeManifest.ProcessorBuilder.instance().withValidation(type).build().process(file);
        expect({ type, errors: result.errors ?? [] }).toEqual({ type, errors: [] });
        expect(result.success).toBe(true);
      }
    } finally {
      process.chdir(cwd);
    }
    // The validator loads Sentry, cheerio and friends: seconds of CPU, a minute on a loaded machine.
  }, 240_000);

  it('passes the checks the validator misses', () => {
    expect(manifestProblems(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('points one remote with only compute at BASE_URL, and asks for the least scopes', () => {
    expect(manifest.app.id).toBe(APP_ID);
    expect(manifest.remotes).toEqual([{ key: 'gatehouse', baseUrl: 'https://gatehouse.example.com', operations: ['compute'] }]);
    expect(manifest.permissions.scopes).toEqual([...FORGE_SCOPES]);
  });

  it('subscribes to the Bitbucket and lifecycle events, hourly, preUninstall, with system tokens (user token for the UI)', () => {
    const events = manifest.modules.trigger!.flatMap((t) => t.events as string[]).sort();
    expect(events).toEqual([...FORGE_BITBUCKET_EVENTS, ...FORGE_LIFECYCLE_EVENTS].sort());
    expect(manifest.modules.scheduledTrigger).toEqual([{ key: 'token-refresh', endpoint: 'scheduled', interval: 'hour' }]);
    expect(manifest.modules.preUninstall).toEqual([{ key: 'pre-uninstall', endpoint: 'uninstall' }]);
    for (const endpoint of manifest.modules.endpoint!) {
      expect(endpoint.auth).toMatchObject({ appSystemToken: { enabled: true } });
      if (endpoint.key === 'ui') expect(endpoint.auth).toMatchObject({ appUserToken: { enabled: true } });
    }
    expect(JSON.stringify(manifest)).not.toContain('ignoreSelf');
  });

  it('declares the three Custom UI modules over resources whose files exist', () => {
    const types = ['bitbucket:repoPullRequestOverviewPanel', 'bitbucket:repoCodeOverviewPanel', 'bitbucket:workspaceSettingsMenuPage'];
    for (const type of types) expect(manifest.modules[type], type).toHaveLength(1);
    expect(manifest.resources.map((r) => r.key).sort()).toEqual(['pull-request-panel', 'repository-panel', 'settings']);
    for (const resource of manifest.resources) {
      expect(existsSync(path.join(path.dirname(file), resource.path, 'index.html')), resource.path).toBe(true);
    }
  });

  it('catches an unknown event, a plain-http remote and a trigger route the server does not answer', () => {
    const broken = structuredClone(manifest);
    (broken.modules.trigger![0]!.events as string[]).push('avi:bitbucket:pushed:repo');
    broken.remotes[0]!.baseUrl = 'http://gatehouse.example.com';
    (broken.modules.endpoint![0]!.route as { path: string }).path = '/forge/nowhere';
    expect(manifestProblems(stringify(broken))).toEqual([
      'remote gatehouse: baseUrl must be https (got http://gatehouse.example.com/)',
      'trigger bitbucket-events: unknown event avi:bitbucket:pushed:repo',
      'trigger bitbucket-events: route /forge/nowhere is not one this server answers (/forge/events, /forge/lifecycle, /forge/uninstall, /forge/scheduled)',
    ]);
  });

  it('refuses a missing FORGE_APP_ID or a non-https BASE_URL with one line each, writing nothing', async () => {
    const result = await run(['forge', 'manifest', '--output', 'other.yml'], { BASE_URL: 'http://gatehouse.example.com' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/FORGE_APP_ID: expected the Forge app ARI/);
    expect(result.stderr).toMatch(/BASE_URL: expected the public https URL/);
    expect(existsSync(path.join(dir, 'other.yml'))).toBe(false);
  });
});
