import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The Forge Custom UI resources exist after the build (test/setup/build.ts runs it, as `npm ci`
// does): every resource the manifest names has its index.html, and every file that page
// loads is there and not empty. Forge would deploy an empty panel otherwise, and nothing else
// would say so before a user opened it.

const FORGE = path.resolve(import.meta.dirname, '..', 'forge');

interface Resource {
  key: string;
  path: string;
  entry: string;
}

const resources = JSON.parse(readFileSync(path.join(FORGE, 'resources.json'), 'utf8')) as Resource[];

/** Local files a page links (`src` / `href` without a scheme). */
function linkedFiles(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string).filter((url) => !/^[a-z]+:|^\/\//i.test(url));
}

describe('Forge Custom UI bundles', () => {
  it('lists one resource per Custom UI module, with keys Forge accepts', () => {
    expect(resources.map((r) => r.key).sort()).toEqual(['pull-request-panel', 'repository-panel', 'settings']);
    // @forge/manifest: resource keys are at most 23 characters of [a-zA-Z0-9-_].
    for (const r of resources) expect(r.key).toMatch(/^[a-zA-Z0-9_-]{1,23}$/);
  });

  it.each(resources)('$key: index.html and every file it loads are built', (resource) => {
    const dir = path.join(FORGE, resource.path);
    const index = path.join(dir, 'index.html');
    expect(existsSync(index), `${index} is missing: the build did not write the resource`).toBe(true);
    const html = readFileSync(index, 'utf8');
    const files = linkedFiles(html);
    expect(files).toEqual(expect.arrayContaining(['app.js', 'css-reset.css', 'tokens.css', 'panel.css']));
    for (const file of files) {
      const full = path.join(dir, file);
      expect(existsSync(full), `${resource.key} links ${file}, which is missing`).toBe(true);
      expect(statSync(full).size).toBeGreaterThan(0);
    }
    // Forge's CSP refuses inline script and style: the page must work without either.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('bundles the bridge call into each page script', () => {
    for (const r of resources) expect(readFileSync(path.join(FORGE, r.path, 'app.js'), 'utf8')).toContain('invokeType');
  });
});
